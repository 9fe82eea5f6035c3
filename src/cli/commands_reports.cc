// statement, report scheme: a project's statement for a month, and a scheme's report for its
// funder.
#include <string>

#include "cli/commands.h"
#include "cli/views.h"
#include "common/timefmt.h"

namespace berth::cli {
namespace {

using nlohmann::json;

struct StatementFlags {
  std::string project, month;
  bool csv = false, html = false;
};

struct ReportFlags {
  std::string scheme, from;
};

Status run_statement(Context& ctx, const StatementFlags& f) {
  if (!f.month.empty()) {
    Result<MonthRange> month = parse_month(f.month);
    if (!month.ok()) return Status::Invalid("--month: " + month.status().message());
  }
  if ((f.csv || f.html) && ctx.json_output)
    return Status::Invalid("--json cannot be combined with --csv or --html");
  const std::string format = f.csv ? "csv" : f.html ? "html" : "";
  const std::string path = "/v1/projects/" + path_segment(f.project) + "/statement" +
                           query_string({{"month", f.month}, {"format", format}});
  if (!format.empty()) {
    BERTH_ASSIGN_OR_RETURN(std::string text, ctx.get_text(path));
    ctx.out() << text;
    return Status::Ok();
  }
  BERTH_ASSIGN_OR_RETURN(json reply, ctx.get(path));
  ctx.print(reply, render_statement(reply, ctx.currency()));
  return Status::Ok();
}

Status run_scheme_report(Context& ctx, const ReportFlags& f) {
  if (!f.from.empty()) {
    Result<int64_t> from = parse_time_ms(f.from);
    if (!from.ok()) return Status::Invalid("--from: " + from.status().message());
  }
  BERTH_ASSIGN_OR_RETURN(json reply, ctx.get("/v1/schemes/" + path_segment(f.scheme) + "/report" +
                                             query_string({{"from", f.from}})));
  ctx.print(reply, render_scheme_report(reply, ctx.currency()));
  return Status::Ok();
}

}  // namespace

void add_report_commands(CLI::App& app, Context& ctx) {
  auto& sf = ctx.make<StatementFlags>();
  CLI::App* statement =
      app.add_subcommand("statement", "a project's statement for a month: jobs, top-ups, balances");
  statement->add_option("project", sf.project, "project name or id")->required();
  statement->add_option("--month", sf.month, "the UTC month, YYYY-MM (default: this month)");
  CLI::Option* csv = statement->add_flag("--csv", sf.csv, "print it as CSV, one row per line item");
  CLI::Option* html = statement->add_flag("--html", sf.html, "print it as a printable HTML page");
  csv->excludes(html);
  on_run(statement, ctx, [&ctx, &sf] { return run_statement(ctx, sf); });

  CLI::App* report =
      app.add_subcommand("report", "reports for funders, and awards' progress reports");
  report->require_subcommand(1);
  auto& rf = ctx.make<ReportFlags>();
  CLI::App* scheme =
      report->add_subcommand("scheme", "a scheme's money, awards, reach and share of the centre");
  scheme->add_option("scheme", rf.scheme, "scheme name or id")->required();
  scheme->add_option("--from", rf.from,
                     "start the capacity period here, YYYY-MM-DD (default: the scheme's creation)");
  on_run(scheme, ctx, [&ctx, &rf] { return run_scheme_report(ctx, rf); });
  add_progress_report_commands(*report, ctx);
}

}  // namespace berth::cli
