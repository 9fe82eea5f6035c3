// report submit|accept|return|list: an award's progress reports (docs/funding.md). A member of
// the project's organisation submits the report for a period; a reviewer accepts it or returns
// it with a reason. While one is overdue the award pays for no new job.
#include <string>

#include "cli/commands.h"
#include "cli/table.h"

namespace berth::cli {
namespace {

using nlohmann::json;

struct ProgressFlags {
  std::string award;
  int64_t period = 0;
  std::optional<std::string> text, file;
  std::string reason;
};

Status check_award_id(const std::string& id) {
  if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos)
    return Status::Invalid("award id '" + id + "' is not a number");
  return Status::Ok();
}

std::string reports_path(const std::string& award) {
  return "/v1/awards/" + path_segment(award) + "/reports";
}

// "Report for period K of award A: STATE" after a step.
Status print_step(Context& ctx, const Result<json>& reply) {
  if (!reply.ok()) return reply.status();
  ctx.print(*reply, "Report for period " + cell(*reply, "period") + " of award " +
                        cell(*reply, "award_id") + ": " + cell(*reply, "state") + " (due " +
                        cell(*reply, "due") + ")\n");
  return Status::Ok();
}

std::string render_reports(const json& reply) {
  const json none = json::object();
  const json empty = json::array();
  const json& award = reply.contains("award") ? reply["award"] : none;
  const json& due_dates = reply.contains("due") ? reply["due"] : empty;
  const json& reports = reply.contains("reports") ? reply["reports"] : empty;
  std::string out =
      "Award " + cell(award, "id") + ": a report every " + cell(award, "report_every_months") +
      " months; next due " + cell(award, "next_report_due") +
      (award.value("reports_overdue", false) ? "; period " + cell(award, "overdue_report_period") +
                                                   " is OVERDUE: the award pays for no new job"
                                             : std::string()) +
      "\n";
  Table table({"PERIOD", "DUE", "STATE", "SUBMITTED", "BY", "DECIDED", "BY", "REASON"});
  table.align_right(0);
  for (size_t i = 0; i < due_dates.size(); ++i) {
    const int64_t period = static_cast<int64_t>(i) + 1;
    const json* found = nullptr;
    for (const json& r : reports)
      if (r.is_object() && r.value("period", int64_t{0}) == period) found = &r;
    if (!found) {
      table.add_row({std::to_string(period), cell(due_dates[i]), "-"});
      continue;
    }
    table.add_row({std::to_string(period), cell(due_dates[i]), cell(*found, "state"),
                   cell(*found, "submitted"), cell(*found, "submitted_by"), cell(*found, "decided"),
                   cell(*found, "decided_by"), cell(*found, "return_reason")});
  }
  return out + table.render();
}

}  // namespace

void add_progress_report_commands(CLI::App& report, Context& ctx) {
  auto& f = ctx.make<ProgressFlags>();
  CLI::App* submit =
      report.add_subcommand("submit", "submit an award's progress report for a period (a member)");
  submit->add_option("award", f.award, "award id")->required();
  submit->add_option("--period", f.period, "the report's period: 1, 2, ...")->required();
  auto* text = submit->add_option("--text", f.text, "the report");
  auto* file = submit->add_option("--file", f.file, "read the report from this file");
  text->excludes(file);
  on_run(submit, ctx, [&ctx, &f] {
    BERTH_RETURN_IF_ERROR(check_award_id(f.award));
    std::string body_text;
    if (f.file) {
      Result<std::string> read = read_text_file(*f.file);
      if (!read.ok()) return Status::Invalid("--file: " + read.status().message());
      body_text = *read;
    } else if (f.text) {
      body_text = *f.text;
    } else {
      return Status::Invalid("give the report with --text or --file");
    }
    return print_step(
        ctx, ctx.post(reports_path(f.award), json{{"period", f.period}, {"text", body_text}}));
  });

  CLI::App* accept =
      report.add_subcommand("accept", "accept a submitted progress report (a reviewer)");
  accept->add_option("award", f.award, "award id")->required();
  accept->add_option("period", f.period, "the report's period")->required();
  on_run(accept, ctx, [&ctx, &f] {
    BERTH_RETURN_IF_ERROR(check_award_id(f.award));
    return print_step(ctx,
                      ctx.post(reports_path(f.award) + "/" + std::to_string(f.period) + "/accept",
                               json::object()));
  });

  CLI::App* ret = report.add_subcommand(
      "return", "return a submitted progress report with a reason (a reviewer)");
  ret->add_option("award", f.award, "award id")->required();
  ret->add_option("period", f.period, "the report's period")->required();
  ret->add_option("--reason", f.reason, "why it is returned")->required();
  on_run(ret, ctx, [&ctx, &f] {
    BERTH_RETURN_IF_ERROR(check_award_id(f.award));
    return print_step(ctx,
                      ctx.post(reports_path(f.award) + "/" + std::to_string(f.period) + "/return",
                               json{{"reason", f.reason}}));
  });

  CLI::App* list =
      report.add_subcommand("list", "an award's report periods, due dates and reports");
  list->add_option("award", f.award, "award id")->required();
  on_run(list, ctx, [&ctx, &f] {
    BERTH_RETURN_IF_ERROR(check_award_id(f.award));
    BERTH_ASSIGN_OR_RETURN(json reply, ctx.get(reports_path(f.award)));
    ctx.print(reply, render_reports(reply));
    return Status::Ok();
  });
}

}  // namespace berth::cli
