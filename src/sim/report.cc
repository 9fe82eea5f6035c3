#include "sim/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <optional>

#include "common/civil.h"
#include "common/money.h"
#include "common/strings.h"
#include "sim/text.h"

namespace berth::sim {
namespace {

// ---------------------------------------------------------------------------------------------
// Text

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// A duration for people: "45 s", "12.5 min", "3.2 h", "4.1 d".
std::string human_duration(double s) {
  if (s < 120) return fmt("%.0f s", s);
  if (s < 2 * kSecondsPerHour) return fmt("%.1f min", s / kSecondsPerMinute);
  if (s < 2 * kSecondsPerDay) return fmt("%.1f h", s / kSecondsPerHour);
  return fmt("%.1f d", s / kSecondsPerDay);
}

std::string tenant_label(const std::string& t) { return t.empty() ? "(no tenant)" : t; }

// A unit to show a span of seconds in.
struct TimeUnit {
  double seconds;
  const char* name;
};
TimeUnit time_unit_for(double span_s) {
  if (span_s <= 2 * kSecondsPerHour) return {kSecondsPerMinute, "min"};
  if (span_s <= 3 * kSecondsPerDay) return {kSecondsPerHour, "h"};
  return {kSecondsPerDay, "days"};
}

// ---------------------------------------------------------------------------------------------
// Charts

constexpr int kWidth = 900, kHeight = 380;
constexpr int kLeft = 80, kRight = 190, kTop = 40, kBottom = 60;
constexpr int kPlotW = kWidth - kLeft - kRight, kPlotH = kHeight - kTop - kBottom;
const char* const kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
const char* color(size_t i) { return kColors[i % std::size(kColors)]; }

struct Axis {
  std::string label;
  double lo = 0, hi = 1;
  std::vector<std::pair<double, std::string>> ticks;  // position (in axis values) and text
};

// Ticks at 1, 2 or 5 times a power of ten, about `count` of them over [lo, hi].
std::vector<std::pair<double, std::string>> nice_ticks(double lo, double hi, int count) {
  std::vector<std::pair<double, std::string>> out;
  if (!(hi > lo)) return out;
  const double raw = (hi - lo) / count;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    const double shown = std::abs(v) < step * 1e-9 ? 0.0 : v;
    out.emplace_back(shown, fmt("%g", shown));
  }
  return out;
}

// Rounds `hi` up to a tick so that axes end on a round number.
double nice_ceiling(double hi) {
  if (hi <= 0) return 1;
  const auto ticks = nice_ticks(0, hi, 5);
  const double step = ticks.size() >= 2 ? ticks[1].first - ticks[0].first : hi;
  return std::ceil(hi / step - 1e-9) * step;
}

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // in axis values
};

class Svg {
 public:
  Svg(const std::string& title, const Axis& x, const Axis& y) : x_(x), y_(y) {
    out_ += "<svg class=\"chart\" width=\"" + std::to_string(kWidth) + "\" height=\"" +
            std::to_string(kHeight) + "\" viewBox=\"0 0 " + std::to_string(kWidth) + " " +
            std::to_string(kHeight) + "\" role=\"img\">\n";
    out_ += "<title>" + html_escape(title) + "</title>\n";
    out_ += text(kLeft, 22, title, "start", "title");
    out_ += "<rect x=\"" + std::to_string(kLeft) + "\" y=\"" + std::to_string(kTop) +
            "\" width=\"" + std::to_string(kPlotW) + "\" height=\"" + std::to_string(kPlotH) +
            "\" class=\"plot\"/>\n";
    for (const auto& [v, label] : y.ticks) {
      const double py = py_of(v);
      out_ += line(kLeft, py, kLeft + kPlotW, py, "grid");
      out_ += text(kLeft - 6, py + 4, label, "end", "tick");
    }
    for (const auto& [v, label] : x.ticks) {
      const double px = px_of(v);
      out_ += line(px, kTop, px, kTop + kPlotH, "grid");
      out_ += text(px, kTop + kPlotH + 16, label, "middle", "tick");
    }
    out_ += text(kLeft + kPlotW / 2.0, kHeight - 18, x.label, "middle", "axis");
    out_ += "<text x=\"18\" y=\"" + num(kTop + kPlotH / 2.0) +
            "\" text-anchor=\"middle\" class=\"axis\" " + "transform=\"rotate(-90 18 " +
            num(kTop + kPlotH / 2.0) + ")\">" + html_escape(y.label) + "</text>\n";
  }

  double px_of(double v) const { return kLeft + (v - x_.lo) / (x_.hi - x_.lo) * kPlotW; }
  double py_of(double v) const { return kTop + kPlotH - (v - y_.lo) / (y_.hi - y_.lo) * kPlotH; }

  void polyline(const Series& s, size_t index) {
    std::string pts;
    for (const auto& [x, y] : s.points) {
      const double px = std::clamp(px_of(x), double{kLeft}, double{kLeft + kPlotW});
      const double py = std::clamp(py_of(y), double{kTop}, double{kTop + kPlotH});
      pts += num(px) + "," + num(py) + " ";
    }
    out_ += "<polyline fill=\"none\" stroke-width=\"1.6\" stroke=\"" + std::string(color(index)) +
            "\" points=\"" + pts + "\"><title>" + html_escape(s.name) + "</title></polyline>\n";
  }

  void bar(double px, double width, double value, size_t index, const std::string& tip) {
    const double top = std::clamp(py_of(value), double{kTop}, double{kTop + kPlotH});
    out_ += "<rect x=\"" + num(px) + "\" y=\"" + num(top) + "\" width=\"" + num(width) +
            "\" height=\"" + num(kTop + kPlotH - top) + "\" fill=\"" + color(index) + "\"><title>" +
            html_escape(tip) + "</title></rect>\n";
  }

  void legend(const std::vector<std::string>& names) {
    for (size_t i = 0; i < names.size(); ++i) {
      const double y = kTop + 8 + 18.0 * static_cast<double>(i);
      out_ += "<rect x=\"" + std::to_string(kLeft + kPlotW + 14) + "\" y=\"" + num(y - 9) +
              "\" width=\"12\" height=\"12\" fill=\"" + color(i) + "\"/>\n";
      out_ += text(kLeft + kPlotW + 32, y + 1, names[i].substr(0, 22), "start", "legend");
    }
  }

  void note(const std::string& s) {
    out_ += text(kLeft + kPlotW / 2.0, kTop + kPlotH / 2.0, s, "middle", "axis");
  }
  void raw(const std::string& s) { out_ += s; }

  std::string finish() { return out_ + "</svg>\n"; }

  static std::string num(double v) { return fmt("%.1f", v); }
  static std::string text(double x, double y, const std::string& s, const char* anchor,
                          const char* cls) {
    return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + anchor +
           "\" class=\"" + cls + "\">" + html_escape(s) + "</text>\n";
  }
  static std::string line(double x1, double y1, double x2, double y2, const char* cls) {
    return "<line x1=\"" + num(x1) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x2) + "\" y2=\"" +
           num(y2) + "\" class=\"" + cls + "\"/>\n";
  }

 private:
  Axis x_, y_;
  std::string out_;
};

// The time span the charts share: earliest submit to latest end over all runs.
struct Span {
  int64_t from_s = 0, to_s = 0;
};
Span jobs_span(const std::vector<PolicyRun>& runs) {
  Span span{std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()};
  for (const PolicyRun& r : runs)
    for (const JobOutcome& j : r.jobs) {
      span.from_s = std::min(span.from_s, j.submit_s);
      span.to_s = std::max(span.to_s, j.end_s);
    }
  if (span.from_s > span.to_s) return {};
  return span;
}

std::vector<std::string> policy_names(const std::vector<PolicyRun>& runs) {
  std::vector<std::string> names;
  for (const PolicyRun& r : runs) names.push_back(r.policy);
  return names;
}

std::string utilization_chart(const std::vector<PolicyRun>& runs, int64_t total_gpus, Span span) {
  const double span_s = std::max<double>(1, static_cast<double>(span.to_s - span.from_s));
  const TimeUnit unit = time_unit_for(span_s);
  Axis x{std::string("time since first submit (") + unit.name + ")", 0, span_s / unit.seconds, {}};
  x.ticks = nice_ticks(x.lo, x.hi, 8);
  Axis y{"GPUs busy (% of " + with_commas(total_gpus) + ")", 0, 100, nice_ticks(0, 100, 5)};
  Svg svg("Utilisation over time", x, y);
  const int buckets = static_cast<int>(
      std::min<int64_t>(kReportUtilizationBuckets, std::max<int64_t>(1, span.to_s - span.from_s)));
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::vector<double> u = utilization_series_between(
        runs[i].jobs, total_gpus, span.from_s, std::max(span.to_s, span.from_s + 1), buckets);
    Series s{runs[i].policy, {}};
    for (size_t b = 0; b < u.size(); ++b)
      s.points.emplace_back((static_cast<double>(b) + 0.5) * span_s / buckets / unit.seconds,
                            u[b] * 100);
    svg.polyline(s, i);
  }
  if (runs.empty()) svg.note("no runs");
  svg.legend(policy_names(runs));
  return svg.finish();
}

std::string wait_cdf_chart(const std::vector<PolicyRun>& runs) {
  int64_t max_wait_s = 10;
  for (const PolicyRun& r : runs)
    for (const JobOutcome& j : r.jobs) max_wait_s = std::max(max_wait_s, j.start_s - j.submit_s);
  // A log axis from 1 s (waits under a second are drawn there) to the longest wait.
  Axis x{"wait before start (log scale; waits under 1 s shown at 1 s)",
         0,
         std::ceil(std::log10(static_cast<double>(max_wait_s))),
         {}};
  const std::pair<double, const char*> kMarks[] = {{1, "1 s"},
                                                   {10, "10 s"},
                                                   {kSecondsPerMinute, "1 min"},
                                                   {10 * kSecondsPerMinute, "10 min"},
                                                   {kSecondsPerHour, "1 h"},
                                                   {10 * kSecondsPerHour, "10 h"},
                                                   {kSecondsPerDay, "1 d"},
                                                   {10 * kSecondsPerDay, "10 d"},
                                                   {100 * kSecondsPerDay, "100 d"}};
  for (const auto& [s, label] : kMarks)
    if (std::log10(s) <= x.hi) x.ticks.emplace_back(std::log10(s), label);
  Axis y{"jobs started within that wait (%)", 0, 100, nice_ticks(0, 100, 5)};
  Svg svg("Wait-time distribution (CDF)", x, y);
  constexpr int kSamples = 240;
  for (size_t i = 0; i < runs.size(); ++i) {
    std::vector<int64_t> waits;
    for (const JobOutcome& j : runs[i].jobs) waits.push_back(j.start_s - j.submit_s);
    if (waits.empty()) continue;
    std::sort(waits.begin(), waits.end());
    Series s{runs[i].policy, {}};
    for (int k = 0; k <= kSamples; ++k) {
      const double lx = x.hi * k / kSamples;
      const double w = std::pow(10.0, lx);
      const auto within =
          std::upper_bound(waits.begin(), waits.end(), static_cast<int64_t>(std::floor(w + 1e-9))) -
          waits.begin();
      s.points.emplace_back(
          lx, 100.0 * static_cast<double>(within) / static_cast<double>(waits.size()));
    }
    svg.polyline(s, i);
  }
  if (runs.empty()) svg.note("no runs");
  svg.legend(policy_names(runs));
  return svg.finish();
}

std::string tenant_jct_chart(const std::vector<PolicyRun>& runs) {
  // Per policy and tenant: (sum of JCT, jobs).
  std::vector<std::map<std::string, std::pair<double, int64_t>>> per(runs.size());
  std::map<std::string, int64_t> job_counts;
  for (size_t i = 0; i < runs.size(); ++i)
    for (const JobOutcome& j : runs[i].jobs) {
      auto& [sum, n] = per[i][j.tenant];
      sum += static_cast<double>(j.end_s - j.submit_s);
      ++n;
      ++job_counts[j.tenant];
    }
  std::vector<std::pair<int64_t, std::string>> by_jobs;
  for (const auto& [t, n] : job_counts) by_jobs.emplace_back(-n, t);
  std::sort(by_jobs.begin(), by_jobs.end());
  const bool cut = by_jobs.size() > static_cast<size_t>(kReportMaxTenantBars);
  if (cut) by_jobs.resize(kReportMaxTenantBars);
  std::vector<std::string> tenants;
  for (const auto& [n, t] : by_jobs) tenants.push_back(t);
  std::sort(tenants.begin(), tenants.end());

  double max_avg_s = 0;
  for (size_t i = 0; i < runs.size(); ++i)
    for (const std::string& t : tenants) {
      const auto it = per[i].find(t);
      if (it != per[i].end())
        max_avg_s = std::max(max_avg_s, it->second.first / static_cast<double>(it->second.second));
    }
  const TimeUnit unit = max_avg_s < 2 * kSecondsPerHour  ? TimeUnit{kSecondsPerMinute, "min"}
                        : max_avg_s < 3 * kSecondsPerDay ? TimeUnit{kSecondsPerHour, "h"}
                                                         : TimeUnit{kSecondsPerDay, "days"};
  Axis x{cut ? "tenant (the " + std::to_string(kReportMaxTenantBars) + " with the most jobs, of " +
                   std::to_string(job_counts.size()) + ")"
             : "tenant",
         0,
         1,
         {}};
  const double hi = nice_ceiling(max_avg_s / unit.seconds);
  Axis y{std::string("average JCT (") + unit.name + ")", 0, hi, nice_ticks(0, hi, 5)};
  Svg svg("Average job completion time per tenant", x, y);
  const double group_w =
      tenants.empty() ? kPlotW : static_cast<double>(kPlotW) / static_cast<double>(tenants.size());
  const double bar_w = runs.empty() ? 0 : group_w * 0.8 / static_cast<double>(runs.size());
  for (size_t c = 0; c < tenants.size(); ++c) {
    const double gx = kLeft + group_w * static_cast<double>(c);
    for (size_t i = 0; i < runs.size(); ++i) {
      const auto it = per[i].find(tenants[c]);
      if (it == per[i].end()) continue;
      const double avg_s = it->second.first / static_cast<double>(it->second.second);
      svg.bar(gx + group_w * 0.1 + bar_w * static_cast<double>(i), bar_w, avg_s / unit.seconds, i,
              runs[i].policy + ", " + tenant_label(tenants[c]) + ": " + human_duration(avg_s) +
                  " over " + with_commas(it->second.second) + " jobs");
    }
    const double lx = gx + group_w / 2, ly = kTop + kPlotH + 12;
    svg.raw("<text x=\"" + Svg::num(lx) + "\" y=\"" + Svg::num(ly) +
            "\" text-anchor=\"end\" class=\"tick\" " + "transform=\"rotate(-35 " + Svg::num(lx) +
            " " + Svg::num(ly) + ")\">" + html_escape(tenant_label(tenants[c]).substr(0, 14)) +
            "</text>\n");
  }
  if (tenants.empty()) svg.note("no jobs");
  svg.legend(policy_names(runs));
  return svg.finish();
}

std::string award_chart(const std::vector<AwardSeries>& awards, Span span) {
  int64_t from_s = span.from_s, to_s = span.to_s;
  bool any_job = span.to_s > span.from_s;
  double max_minor = 0;
  for (const AwardSeries& a : awards)
    for (const auto& [t, left] : a.left_minor) {
      if (!any_job) {
        from_s = std::min(from_s, t);
        to_s = std::max(to_s, t);
      }
      max_minor = std::max(max_minor, static_cast<double>(left));
    }
  for (const AwardSeries& a : awards)
    for (const auto& [t, left] : a.left_minor) to_s = std::max(to_s, t);
  const double span_s = std::max<double>(1, static_cast<double>(to_s - from_s));
  const TimeUnit unit = time_unit_for(span_s);
  Axis x{std::string("time since first submit (") + unit.name + ")", 0, span_s / unit.seconds, {}};
  x.ticks = nice_ticks(x.lo, x.hi, 8);
  const double hi = nice_ceiling(max_minor / static_cast<double>(kMinorPerUnit));
  Axis y{"award money left (currency units)", 0, hi, nice_ticks(0, hi, 5)};
  Svg svg("Award burn-down per tenant", x, y);
  std::vector<std::string> names;
  for (size_t i = 0; i < awards.size(); ++i) {
    Series s{tenant_label(awards[i].tenant), {}};
    for (size_t k = 0; k < awards[i].left_minor.size(); ++k) {
      const auto [t, left] = awards[i].left_minor[k];
      const double px = static_cast<double>(t - from_s) / unit.seconds;
      const double v = static_cast<double>(left) / static_cast<double>(kMinorPerUnit);
      if (k > 0)
        s.points.emplace_back(px, s.points.back().second);  // steps: money changes at the point
      s.points.emplace_back(px, v);
    }
    svg.polyline(s, i);
    names.push_back(s.name);
  }
  svg.legend(names);
  return svg.finish();
}

// ---------------------------------------------------------------------------------------------
// Table

std::string summary_table(const std::vector<PolicyRun>& runs) {
  bool money = false;
  for (const PolicyRun& r : runs) money = money || r.metrics.contains("cost_minor");
  auto number = [](const nlohmann::json& m, const char* key) -> std::optional<double> {
    if (!m.is_object() || !m.contains(key) || !m[key].is_number()) return std::nullopt;
    return m[key].get<double>();
  };
  auto cell = [&](const nlohmann::json& m, const char* key,
                  const std::function<std::string(double)>& show) {
    const auto v = number(m, key);
    return "<td>" + (v ? html_escape(show(*v)) : std::string("&mdash;")) + "</td>";
  };
  auto dur = [](double s) { return human_duration(s); };
  auto pct = [](double u) { return fmt("%.1f%%", 100 * u); };
  auto fixed2 = [](double v) { return fmt("%.2f", v); };
  auto count = [](double v) { return with_commas(static_cast<int64_t>(v)); };
  auto amount = [](double v) { return format_amount(static_cast<Minor>(v)); };
  std::string out =
      "<table>\n<tr><th>policy</th><th>jobs</th><th>makespan</th><th>utilisation</th>"
      "<th>avg JCT</th><th>p50 JCT</th><th>p99 JCT</th><th>avg wait</th><th>p50 wait</th>"
      "<th>p99 wait</th><th>avg bounded slowdown</th><th>avg delay</th><th>p99 delay</th>"
      "<th>max delay</th><th>preemptions</th><th>Jain fairness</th>";
  if (money)
    out += "<th>cost</th><th>subsidy</th><th>copay</th><th>jobs that waited for funds</th>";
  out += "</tr>\n";
  for (const PolicyRun& r : runs) {
    const nlohmann::json& m = r.metrics;
    out += "<tr><td>" + html_escape(r.policy) + "</td>" + cell(m, "jobs", count) +
           cell(m, "makespan_s", dur) + cell(m, "utilization", pct) + cell(m, "avg_jct_s", dur) +
           cell(m, "p50_jct_s", dur) + cell(m, "p99_jct_s", dur) + cell(m, "avg_wait_s", dur) +
           cell(m, "p50_wait_s", dur) + cell(m, "p99_wait_s", dur) +
           cell(m, "avg_bounded_slowdown", fixed2) + cell(m, "avg_delay_s", dur) +
           cell(m, "p99_delay_s", dur) + cell(m, "max_delay_s", dur) +
           cell(m, "preemptions", count) + cell(m, "jain_fairness", fixed2);
    if (money)
      out += cell(m, "cost_minor", amount) + cell(m, "subsidy_minor", amount) +
             cell(m, "copay_minor", amount) + cell(m, "jobs_waited_for_funds", count);
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

// What each policy does, one sentence each.
std::string policy_sentences(const std::vector<PolicyRun>& runs) {
  std::string out = "<ul>\n";
  for (const PolicyRun& r : runs)
    if (!r.description.empty())
      out += "<li><b>" + html_escape(r.policy) + "</b>: " + html_escape(r.description) + ".</li>\n";
  return out + "</ul>\n";
}

// Per size class and policy: how jobs of that size fared (metrics' size_classes).
std::string size_class_table(const std::vector<PolicyRun>& runs) {
  std::string out =
      "<p>Delay = JCT &minus; time holding GPUs: the time a job spent waiting, before its first "
      "start and between its runs. A size class whose delays stand far above the others' is "
      "being starved.</p>\n<table>\n<tr><th>GPUs</th><th>policy</th><th>jobs</th><th>avg "
      "JCT</th><th>p99 JCT</th><th>avg bounded slowdown</th><th>avg delay</th><th>p99 delay</th>"
      "<th>max delay</th></tr>\n";
  auto dur = [](const nlohmann::json& c, const char* key) {
    return "<td>" + html_escape(human_duration(c.value(key, 0.0))) + "</td>";
  };
  for (const char* label : kSizeClasses)
    for (const PolicyRun& r : runs) {
      if (!r.metrics.is_object() || !r.metrics.contains("size_classes") ||
          !r.metrics["size_classes"].contains(label))
        continue;
      const nlohmann::json& c = r.metrics["size_classes"][label];
      out += "<tr><td>" + html_escape(label) + "</td><td>" + html_escape(r.policy) + "</td><td>" +
             with_commas(c.value("jobs", int64_t{0})) + "</td>" + dur(c, "avg_jct_s") +
             dur(c, "p99_jct_s") + "<td>" + fmt("%.2f", c.value("avg_bounded_slowdown", 0.0)) +
             "</td>" + dur(c, "avg_delay_s") + dur(c, "p99_delay_s") + dur(c, "max_delay_s") +
             "</tr>\n";
    }
  return out + "</table>\n";
}

Status write_file(const std::filesystem::path& path, const std::string& content) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return Status::Internal(path.string() + ": cannot open for writing");
  const bool written = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) return Status::Internal(path.string() + ": write failed");
  return Status::Ok();
}

std::string jobs_csv(const std::vector<PolicyRun>& runs) {
  std::string out = "policy,id,tenant,submit_s,start_s,end_s,gpus,wait_s,cost,subsidy\n";
  for (const PolicyRun& r : runs) {
    const std::string policy = csv_field(r.policy);
    for (const JobOutcome& j : r.jobs) {
      out += policy + ',' + csv_field(j.id) + ',' + csv_field(j.tenant) + ',' +
             std::to_string(j.submit_s) + ',' + std::to_string(j.start_s) + ',' +
             std::to_string(j.end_s) + ',' + std::to_string(j.gpus) + ',' +
             std::to_string(j.start_s - j.submit_s) + ',' + format_amount(j.cost_minor) + ',' +
             format_amount(j.subsidy_minor) + '\n';
    }
  }
  return out;
}

constexpr const char* kStyle = R"(<style>
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 12px 0 24px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
svg.chart { display: block; margin: 16px 0; }
svg .title { font-size: 15px; font-weight: 600; }
svg .tick { font-size: 11px; fill: #444; }
svg .axis { font-size: 12px; fill: #222; }
svg .legend { font-size: 12px; fill: #222; }
svg .grid { stroke: #e4e4e4; stroke-width: 1; }
svg .plot { fill: none; stroke: #888; }
</style>
)";

}  // namespace

std::string report_html(const std::vector<PolicyRun>& runs, int64_t total_gpus,
                        const std::vector<AwardSeries>& awards) {
  const Span span = jobs_span(runs);
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>berth sim report</title>\n";
  html += kStyle;
  html += "</head>\n<body>\n<h1>berth sim report</h1>\n";
  html += "<p>" + std::to_string(runs.size()) + " polic" + (runs.size() == 1 ? "y" : "ies") +
          " replayed on " + with_commas(total_gpus) +
          " GPUs. Times are measured from each job's submission: wait = start &minus; "
          "submit, JCT = end &minus; submit; bounded slowdown = max(1, JCT / max(run, 10 s)); "
          "percentiles are "
          "nearest-rank.</p>\n";
  html += "<h2>Summary</h2>\n" + summary_table(runs) + policy_sentences(runs);
  html += "<h2>By job size</h2>\n" + size_class_table(runs);
  html += "<h2>Charts</h2>\n";
  html += utilization_chart(runs, total_gpus, span);
  html += wait_cdf_chart(runs);
  html += tenant_jct_chart(runs);
  if (!awards.empty()) html += award_chart(awards, span);
  html += "</body>\n</html>\n";
  return html;
}

Status write_report(const std::string& dir, const nlohmann::json& metrics,
                    const std::vector<PolicyRun>& runs, int64_t total_gpus,
                    const std::vector<AwardSeries>& awards) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Internal(dir + ": cannot create directory: " + ec.message());
  const std::filesystem::path base(dir);
  BERTH_RETURN_IF_ERROR(
      write_file(base / "metrics.json",
                 metrics.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"));
  BERTH_RETURN_IF_ERROR(write_file(base / "jobs.csv", jobs_csv(runs)));
  return write_file(base / "index.html", report_html(runs, total_gpus, awards));
}

}  // namespace berth::sim
