// apply draft|update|submit|withdraw|show|list, review criteria|score|approve|reject:
// funding applications (docs/funding.md). A member applies for their organisation's project;
// a reviewer (or the admin) sets a scheme's criteria, scores and decides.
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/request.h"
#include "cli/table.h"
#include "cli/views.h"
#include "common/files.h"
#include "core/applications.h"

namespace berth::cli {
namespace {

using nlohmann::json;

struct TermsFlags {
  std::string id;  // update only
  std::string scheme, project;
  std::optional<std::string> amount, gpu_model, justification, justification_file, plan;
  std::optional<int64_t> gpus, days;
};

struct IdFlags {
  std::string id;
  std::optional<std::string> text;  // withdraw's note, reject's reason
};

struct ListFlags {
  std::optional<std::string> scheme, state;
};

struct CriteriaFlags {
  std::string scheme;
  std::vector<std::string> criteria;  // name=weight
};

struct ScoreFlags {
  std::string id;
  std::vector<std::string> scores;  // name=score
  std::optional<std::string> comment;
};

struct ApproveFlags {
  std::string id;
  std::optional<std::string> amount, note;
  std::optional<int64_t> gpus, days, report_every, report_grace;
  bool exceptional = false;
};

Status check_id(const std::string& id) {
  if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos)
    return Status::Invalid("application id '" + id + "' is not a number");
  return Status::Ok();
}

// The granted or asked amount, GPU level and days, where given (drafts, updates, approvals).
Status add_grant_fields(json& body, const std::optional<std::string>& amount,
                        const std::optional<int64_t>& gpus, const std::optional<int64_t>& days) {
  if (amount) {
    Result<std::string> checked = checked_amount(*amount);
    if (!checked.ok()) return Status::Invalid("--amount: " + checked.status().message());
    body["amount"] = *checked;
  }
  if (gpus) body["gpu_level"] = *gpus;
  if (days) body["duration_days"] = *days;
  return Status::Ok();
}

// The JSON body of a draft (every field) or an update (the fields given).
Result<json> terms_body(const TermsFlags& f, bool is_update) {
  json body = json::object();
  if (!is_update) {
    body["scheme"] = name_or_id(f.scheme);
    body["project"] = name_or_id(f.project);
  }
  BERTH_RETURN_IF_ERROR(add_grant_fields(body, f.amount, f.gpus, f.days));
  if (f.gpu_model) body["gpu_model"] = *f.gpu_model;
  if (f.justification && f.justification_file)
    return Status::Invalid("give --justification or --justification-file, not both");
  if (f.justification) body["justification"] = *f.justification;
  if (f.justification_file) {
    Result<std::string> text = read_text_file(*f.justification_file);
    if (!text.ok()) return Status::Invalid("--justification-file: " + text.status().message());
    body["justification"] = *text;
  }
  if (f.plan) body["planned_work"] = *f.plan;
  return body;
}

// "name=40%" or "name=4000bps" -> {"name", "weight_bps"}; "name=80" -> a score.
Result<std::pair<std::string, std::string>> split_pair(const std::string& text, const char* what) {
  const size_t eq = text.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    return Status::Invalid(std::string(what) + " '" + text + "' must be NAME=VALUE");
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

Result<json> criteria_body(const CriteriaFlags& f) {
  json list = json::array();
  for (const std::string& c : f.criteria) {
    BERTH_ASSIGN_OR_RETURN(auto kv, split_pair(c, "criterion"));
    Result<int64_t> weight = parse_rate_bps(kv.second);
    if (!weight.ok())
      return Status::Invalid("criterion '" + kv.first + "': weight " + weight.status().message());
    list.push_back({{"name", kv.first}, {"weight_bps", *weight}});
  }
  return json{{"criteria", list}};
}

Result<json> score_body(const ScoreFlags& f) {
  json scores = json::object();
  for (const std::string& s : f.scores) {
    BERTH_ASSIGN_OR_RETURN(auto kv, split_pair(s, "score"));
    const std::string& v = kv.second;
    if (v.size() > 3 || v.find_first_not_of("0123456789") != std::string::npos)
      return Status::Invalid("score of '" + kv.first + "' must be a whole number 0..100, got '" +
                             v + "'");
    scores[kv.first] = std::stoi(v);
  }
  json body = {{"scores", scores}};
  if (f.comment) body["comment"] = *f.comment;
  return body;
}

Result<json> approve_body(const ApproveFlags& f) {
  json body = json::object();
  BERTH_RETURN_IF_ERROR(add_grant_fields(body, f.amount, f.gpus, f.days));
  if (f.exceptional) body["exceptional_rate"] = true;
  if (f.report_every) body["report_every_months"] = *f.report_every;
  if (f.report_grace) body["report_grace_days"] = *f.report_grace;
  if (f.note) body["note"] = *f.note;
  return body;
}

std::string app_path(const std::string& id, const char* action = nullptr) {
  std::string p = "/v1/applications/" + path_segment(id);
  if (action) p += std::string("/") + action;
  return p;
}

// POSTs to an application's action and prints "<what> application N (state)".
Status post_action(Context& ctx, const std::string& id, const char* action, const json& body,
                   const char* what) {
  BERTH_RETURN_IF_ERROR(check_id(id));
  BERTH_ASSIGN_OR_RETURN(json reply, ctx.post(app_path(id, action), body));
  ctx.print(reply, std::string(what) + " application " + cell(reply, "id") + " (" +
                       cell(reply, "state") + ")\n");
  return Status::Ok();
}

void add_terms_options(CLI::App* cmd, TermsFlags& f, bool is_update) {
  auto* amount = cmd->add_option("--amount", f.amount, "amount asked for, in currency units");
  auto* gpus =
      cmd->add_option("--gpus", f.gpus, "GPU level: the most GPUs the award pays for at once");
  auto* days = cmd->add_option("--days", f.days, "duration in days");
  cmd->add_option("--gpu-model", f.gpu_model, "GPU model (default: any)");
  cmd->add_option("--justification", f.justification, "why the project needs the compute");
  cmd->add_option("--justification-file", f.justification_file,
                  "read the justification from a file");
  cmd->add_option("--plan", f.plan, "the planned work");
  if (!is_update) {
    amount->required();
    gpus->required();
    days->required();
  }
}

void add_apply(CLI::App& app, Context& ctx) {
  CLI::App* apply =
      app.add_subcommand("apply", "funding applications (members of the applying organisation)");
  apply->require_subcommand(1);

  auto& df = ctx.make<TermsFlags>();
  CLI::App* draft = apply->add_subcommand("draft", "draft an application for a project");
  draft->add_option("--scheme", df.scheme, "scheme name or id")->required();
  draft->add_option("--project", df.project, "project name or id")->required();
  add_terms_options(draft, df, false);
  on_run(draft, ctx, [&ctx, &df] {
    if (!df.justification && !df.justification_file)
      return Status::Invalid("a draft needs --justification or --justification-file");
    BERTH_ASSIGN_OR_RETURN(json body, terms_body(df, false));
    BERTH_ASSIGN_OR_RETURN(json reply, ctx.post("/v1/applications", body));
    ctx.print(reply, "Drafted application " + cell(reply, "id") + " (" + df.project + " to " +
                         df.scheme + "); submit it with: berth apply submit " + cell(reply, "id") +
                         "\n");
    return Status::Ok();
  });

  auto& uf = ctx.make<TermsFlags>();
  CLI::App* update = apply->add_subcommand("update", "change a draft's terms");
  update->add_option("id", uf.id, "application id")->required();
  add_terms_options(update, uf, true);
  on_run(update, ctx, [&ctx, &uf] {
    BERTH_RETURN_IF_ERROR(check_id(uf.id));
    BERTH_ASSIGN_OR_RETURN(json body, terms_body(uf, true));
    return post_action(ctx, uf.id, "update", body, "Updated");
  });

  auto& sf = ctx.make<IdFlags>();
  CLI::App* submit = apply->add_subcommand("submit", "submit a draft for review");
  submit->add_option("id", sf.id, "application id")->required();
  on_run(submit, ctx,
         [&ctx, &sf] { return post_action(ctx, sf.id, "submit", json::object(), "Submitted"); });

  auto& wf = ctx.make<IdFlags>();
  CLI::App* withdraw =
      apply->add_subcommand("withdraw", "withdraw a draft or a submitted application");
  withdraw->add_option("id", wf.id, "application id")->required();
  withdraw->add_option("--note", wf.text, "why");
  on_run(withdraw, ctx, [&ctx, &wf] {
    json body = json::object();
    if (wf.text) body["note"] = *wf.text;
    return post_action(ctx, wf.id, "withdraw", body, "Withdrew");
  });

  auto& shf = ctx.make<IdFlags>();
  CLI::App* show = apply->add_subcommand("show", "an application with its reviews and history");
  show->add_option("id", shf.id, "application id")->required();
  on_run(show, ctx, [&ctx, &shf] {
    BERTH_RETURN_IF_ERROR(check_id(shf.id));
    BERTH_ASSIGN_OR_RETURN(json reply, ctx.get(app_path(shf.id)));
    ctx.print(reply, render_application(reply));
    return Status::Ok();
  });

  auto& lf = ctx.make<ListFlags>();
  CLI::App* list = apply->add_subcommand("list", "applications you may see");
  list->add_option("--scheme", lf.scheme, "only this scheme's");
  list->add_option("--state", lf.state, "only those in this state")
      ->check(CLI::IsMember(core::kApplicationStateNames.names()));
  on_run(list, ctx, [&ctx, &lf] {
    const std::string path = "/v1/applications" + query_string({{"scheme", lf.scheme.value_or("")},
                                                                {"state", lf.state.value_or("")}});
    return run_listing(ctx, path, "applications", in_currency(ctx, render_applications));
  });
}

void add_review(CLI::App& app, Context& ctx) {
  CLI::App* review = app.add_subcommand("review", "review funding applications (reviewers)");
  review->require_subcommand(1);

  auto& cf = ctx.make<CriteriaFlags>();
  CLI::App* criteria =
      review->add_subcommand("criteria", "set a scheme's weighted review criteria");
  criteria->add_option("scheme", cf.scheme, "scheme name or id")->required();
  criteria
      ->add_option("criteria", cf.criteria,
                   "NAME=WEIGHT, weights summing to 100% (e.g. impact=40% plan=60%)")
      ->required();
  on_run(criteria, ctx, [&ctx, &cf] {
    BERTH_ASSIGN_OR_RETURN(json body, criteria_body(cf));
    BERTH_ASSIGN_OR_RETURN(json reply,
                           ctx.post("/v1/schemes/" + path_segment(cf.scheme) + "/criteria", body));
    ctx.print(reply, "Scheme " + cf.scheme + " reviews against " +
                         std::to_string(items(reply, "criteria").size()) + " criteria\n");
    return Status::Ok();
  });

  auto& sf = ctx.make<ScoreFlags>();
  CLI::App* score =
      review->add_subcommand("score", "score a submitted application (again: revise your review)");
  score->add_option("id", sf.id, "application id")->required();
  score->add_option("scores", sf.scores, "NAME=SCORE for every criterion, 0..100")->required();
  score->add_option("--comment", sf.comment, "a comment for the record");
  on_run(score, ctx, [&ctx, &sf] {
    BERTH_RETURN_IF_ERROR(check_id(sf.id));
    BERTH_ASSIGN_OR_RETURN(json body, score_body(sf));
    BERTH_ASSIGN_OR_RETURN(json reply, ctx.post(app_path(sf.id, "reviews"), body));
    ctx.print(reply, "Reviewed application " + cell(reply, "id") + ": score " +
                         cell(reply, "score") + " from " + cell(reply, "reviews_count") +
                         " review(s)\n");
    return Status::Ok();
  });

  auto& af = ctx.make<ApproveFlags>();
  CLI::App* approve =
      review->add_subcommand("approve", "approve (possibly less than asked) and grant the award");
  approve->add_option("id", af.id, "application id")->required();
  approve->add_option("--amount", af.amount, "amount granted (default: as asked)");
  approve->add_option("--gpus", af.gpus, "GPU level granted (default: as asked)");
  approve->add_option("--days", af.days, "duration granted in days (default: as asked)");
  approve->add_flag("--exceptional-rate", af.exceptional,
                    "grant the scheme's exceptional subsidy rate");
  approve->add_option("--note", af.note, "a note for the record");
  approve->add_option("--report-every", af.report_every,
                      "require a progress report every N months (default: none)");
  approve->add_option("--report-grace", af.report_grace,
                      "days after each due date before a report is overdue");
  on_run(approve, ctx, [&ctx, &af] {
    BERTH_RETURN_IF_ERROR(check_id(af.id));
    BERTH_ASSIGN_OR_RETURN(json body, approve_body(af));
    BERTH_ASSIGN_OR_RETURN(json reply, ctx.post(app_path(af.id, "approve"), body));
    const json& award = reply["award"];
    ctx.print(reply, "Approved application " + af.id + ": award " + cell(award, "id") + " of " +
                         ctx.money(award, "granted") + " for " + cell(award, "gpu_level") +
                         " GPUs at " + format_rate(award.value("rate_bps", int64_t{0})) + ", " +
                         cell(award, "start") + " to " + cell(award, "end") + "\n");
    return Status::Ok();
  });

  auto& rf = ctx.make<IdFlags>();
  CLI::App* reject = review->add_subcommand("reject", "reject a submitted application");
  reject->add_option("id", rf.id, "application id")->required();
  reject->add_option("--reason", rf.text, "why (told to the applicant)")->required();
  on_run(reject, ctx, [&ctx, &rf] {
    return post_action(ctx, rf.id, "reject", json{{"reason", *rf.text}}, "Rejected");
  });
}

}  // namespace

Result<std::string> read_text_file(const std::string& path) {
  Result<std::string> text = read_whole_file(path);
  if (!text.ok()) return Status::Invalid(text.status().message());  // the user named it
  return text;
}

void add_funding_commands(CLI::App& app, Context& ctx) {
  add_apply(app, ctx);
  add_review(app, ctx);
}

}  // namespace berth::cli
