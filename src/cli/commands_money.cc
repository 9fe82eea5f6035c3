// balance, transfers, topup, credit-limit, refund, adjust, reconcile, scheme create|fund|list,
// award create|list|supplement|close, funding-order, audit.
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/request.h"
#include "cli/table.h"
#include "cli/views.h"
#include "common/timefmt.h"
#include "core/model.h"
#include "core/reconcile.h"
#include "wire/reconcile_json.h"

namespace berth::cli {
namespace {

using nlohmann::json;

struct TransferFlags {
  std::string account, job;
};

struct TopupFlags {
  std::string project, amount;
  std::optional<std::string> reference;
};

struct CreditLimitFlags {
  std::string project, limit;
  std::optional<std::string> note;
};

struct RefundFlags {
  std::string job, reason;
  std::optional<std::string> amount, reference;
};

struct AdjustFlags {
  std::string project, amount, reason;
  std::optional<std::string> reference;
};

struct SchemeFlags {
  std::string name, rate;
  std::optional<std::string> fund, shortfall, exceptional_rate, cap, window_open, window_close;
  std::optional<int64_t> validity_days;
  std::vector<std::string> eligible;
};

struct FundFlags {
  std::string scheme, amount;
};

struct AwardFlags {
  std::string scheme, project, amount, start, end;
  int64_t gpus = 0;
  int64_t report_every = 0,
          report_grace = 0;  // progress reports every N months (0: none), grace days
};

Status check_number(const char* what, const std::string& text) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
    return Status::Invalid(std::string(what) + " '" + text + "' is not a number");
  return Status::Ok();
}

struct SupplementFlags {
  std::string id;
  std::optional<std::string> amount, end, note;
};

struct CloseFlags {
  std::string id, reason;
};

struct OrderFlags {
  std::string project;
  std::vector<std::string> awards;
};

Status run_supplement(Context& ctx, const SupplementFlags& f) {
  BERTH_RETURN_IF_ERROR(check_number("award id", f.id));
  if (!f.amount && !f.end) return Status::Invalid("a supplement needs --amount, --end or both");
  json body = json::object();
  if (f.amount) {
    Result<std::string> amount = checked_amount(*f.amount);
    if (!amount.ok()) return Status::Invalid("--amount: " + amount.status().message());
    body["amount"] = *amount;
  }
  if (f.end) body["end"] = *f.end;
  if (f.note) body["note"] = *f.note;
  BERTH_ASSIGN_OR_RETURN(json award, ctx.post("/v1/awards/" + f.id + "/supplement", body));
  ctx.print(award, "Award " + f.id + ": granted " + ctx.money(award, "granted") + ", ends " +
                       cell(award, "end") + "\n");
  return Status::Ok();
}

Status run_close(Context& ctx, const CloseFlags& f) {
  BERTH_RETURN_IF_ERROR(check_number("award id", f.id));
  BERTH_ASSIGN_OR_RETURN(json award,
                         ctx.post("/v1/awards/" + f.id + "/close", json{{"reason", f.reason}}));
  const bool returned = award.contains("returned") && !award["returned"].is_null();
  ctx.print(award,
            "Closed award " + f.id +
                (returned ? "; " + ctx.money(award, "returned_amount") + " returned to the fund"
                          : "; what is left returns to the fund once its running jobs settle") +
                "\n");
  return Status::Ok();
}

Status run_funding_order(Context& ctx, const OrderFlags& f) {
  json ids = json::array();
  for (const std::string& a : f.awards) {
    BERTH_RETURN_IF_ERROR(check_number("award id", a));
    ids.push_back(std::stoull(a));
  }
  BERTH_ASSIGN_OR_RETURN(json balance,
                         ctx.post("/v1/projects/" + path_segment(f.project) + "/funding-order",
                                  json{{"awards", ids}}));
  ctx.print(balance, render_balances({balance}, ctx.currency()));
  return Status::Ok();
}

Result<std::vector<json>> all_balances(Context& ctx) {
  BERTH_ASSIGN_OR_RETURN(json projects, ctx.get("/v1/projects"));
  std::vector<json> out;
  for (const json& project : items(projects, "projects")) {
    BERTH_ASSIGN_OR_RETURN(
        json balance, ctx.get("/v1/projects/" + path_segment(cell(project, "id")) + "/balance"));
    out.push_back(std::move(balance));
  }
  return out;
}

Status run_balance(Context& ctx, const std::string& project) {
  if (!project.empty()) {
    BERTH_ASSIGN_OR_RETURN(json balance,
                           ctx.get("/v1/projects/" + path_segment(project) + "/balance"));
    ctx.print(balance, render_balances({balance}, ctx.currency()));
    return Status::Ok();
  }
  BERTH_ASSIGN_OR_RETURN(std::vector<json> balances, all_balances(ctx));
  ctx.print(json{{"balances", balances}}, render_balances(balances, ctx.currency()));
  return Status::Ok();
}

Status run_transfers(Context& ctx, const TransferFlags& f) {
  if (!f.account.empty()) BERTH_RETURN_IF_ERROR(check_number("account id", f.account));
  if (!f.job.empty()) BERTH_RETURN_IF_ERROR(check_job_id(f.job));
  const std::string path =
      "/v1/transfers" + query_string({{"account", f.account}, {"job", f.job}, {"limit", "1000"}});
  BERTH_ASSIGN_OR_RETURN(json reply, get_every_page(ctx, path, "transfers"));
  ctx.print(reply, render_transfers(items(reply, "transfers"), ctx.currency()));
  return Status::Ok();
}

Status run_topup(Context& ctx, const TopupFlags& f) {
  BERTH_ASSIGN_OR_RETURN(std::string amount, checked_amount(f.amount));
  json body = {{"amount", amount}};
  if (f.reference) body["reference"] = *f.reference;
  BERTH_ASSIGN_OR_RETURN(json reply,
                         ctx.post("/v1/projects/" + path_segment(f.project) + "/topups", body));
  ctx.print(reply, "Topped up " + f.project + " by " + ctx.exact_money(reply, "amount") +
                       (f.reference ? " (reference " + *f.reference + ")" : "") +
                       "; wallet balance " + ctx.exact_money(reply, "wallet_balance") + "\n");
  return Status::Ok();
}

// Reconciles a state directory's database without a server: for an operator whose berthd will
// not start on the rows (Restore refuses books that do not verify) or is stopped.
Result<json> reconcile_offline(Context& ctx, const std::string& state_dir) {
  const auto& reconcile_state_dir = ctx.io().reconcile_state_dir;
  if (!reconcile_state_dir)
    return Status(Code::kUnavailable, "this berth cannot read a state directory");
  const core::ReconcileOptions options;
  BERTH_ASSIGN_OR_RETURN(core::ReconcileReport report, reconcile_state_dir(state_dir, options));
  json reply = wire::reconcile_json(report, core::ReconcileReport{}, options.max_listed);
  reply.erase("engine");  // no engine runs here: the store's rows are all there is
  return reply;
}

Status run_credit_limit(Context& ctx, const CreditLimitFlags& f) {
  BERTH_ASSIGN_OR_RETURN(std::string limit, checked_amount(f.limit));
  json body = {{"limit", limit}};
  if (f.note) body["note"] = *f.note;
  BERTH_ASSIGN_OR_RETURN(
      json reply, ctx.post("/v1/projects/" + path_segment(f.project) + "/credit-limit", body));
  const json wallet = reply.value("wallet", json::object());
  ctx.print(reply, "Credit limit of " + f.project +
                       "'s wallet: " + ctx.money(wallet, "credit_limit") + "; spendable " +
                       ctx.money(wallet, "spendable") + "\n");
  return Status::Ok();
}

Status run_refund(Context& ctx, const RefundFlags& f) {
  BERTH_RETURN_IF_ERROR(check_job_id(f.job));
  if (f.reason.empty()) return Status::Invalid("--reason must not be empty");
  json body = {{"reason", f.reason}};
  if (f.amount) {
    Result<std::string> amount = checked_amount(*f.amount);
    if (!amount.ok()) return Status::Invalid("--amount: " + amount.status().message());
    body["amount"] = *amount;
  }
  if (f.reference) body["reference"] = *f.reference;
  BERTH_ASSIGN_OR_RETURN(json reply, ctx.post("/v1/jobs/" + f.job + "/refund", body));
  const json refund = reply.value("refund", json::object());
  const bool replayed = reply.value("replayed", false);
  ctx.print(reply, std::string(replayed ? "Already refunded " : "Refunded ") +
                       ctx.exact_money(refund, "amount") + " of job " + f.job +
                       " (refunded in all " + ctx.exact_money(reply, "refunded") + " of " +
                       ctx.exact_money(reply, "cost") + ")\n");
  return Status::Ok();
}

Status run_adjust(Context& ctx, const AdjustFlags& f) {
  BERTH_ASSIGN_OR_RETURN(std::string amount, checked_amount(f.amount, true));
  if (f.reason.empty()) return Status::Invalid("--reason must not be empty");
  json body = {{"amount", amount}, {"reason", f.reason}};
  if (f.reference) body["reference"] = *f.reference;
  BERTH_ASSIGN_OR_RETURN(
      json reply, ctx.post("/v1/projects/" + path_segment(f.project) + "/adjustments", body));
  const json adjustment = reply.value("adjustment", json::object());
  const json wallet = reply.value("wallet", json::object());
  ctx.print(reply, "Adjusted " + f.project + "'s wallet by " +
                       ctx.exact_money(adjustment, "amount") +
                       (f.reference ? " (reference " + *f.reference + ")" : "") + "; balance " +
                       ctx.exact_money(wallet, "balance") + "\n");
  return Status::Ok();
}

// Exits 1 when the books show any difference; the differences printed are the message.
Status run_reconcile(Context& ctx, const std::string& state_dir) {
  BERTH_ASSIGN_OR_RETURN(
      json reply, state_dir.empty() ? ctx.get("/v1/reconcile") : reconcile_offline(ctx, state_dir));
  ctx.print(reply, render_reconcile(reply));
  if (reply.is_object() && reply.value("ok", false)) return Status::Ok();
  return Status(Code::kConflict, "");
}

Result<json> scheme_body(const SchemeFlags& f) {
  BERTH_ASSIGN_OR_RETURN(int64_t rate, parse_rate_bps(f.rate));
  json body = {{"name", f.name}, {"rate_bps", rate}};
  if (f.fund) {
    Result<std::string> fund = checked_amount(*f.fund);
    if (!fund.ok()) return Status::Invalid("--fund: " + fund.status().message());
    body["fund"] = *fund;
  }
  body["eligible_kinds"] = f.eligible;
  if (f.shortfall) body["shortfall"] = *f.shortfall;
  if (f.exceptional_rate) {
    Result<int64_t> bps = parse_rate_bps(*f.exceptional_rate);
    if (!bps.ok()) return Status::Invalid("--exceptional-rate: " + bps.status().message());
    body["exceptional_rate_bps"] = *bps;
  }
  if (f.cap) {
    Result<std::string> cap = checked_amount(*f.cap);
    if (!cap.ok()) return Status::Invalid("--cap: " + cap.status().message());
    body["cap_per_project"] = *cap;
  }
  if (f.window_open) body["window_open"] = *f.window_open;
  if (f.window_close) body["window_close"] = *f.window_close;
  if (f.validity_days) body["award_validity_days"] = *f.validity_days;
  return body;
}

Status run_scheme_create(Context& ctx, const SchemeFlags& f) {
  BERTH_ASSIGN_OR_RETURN(json body, scheme_body(f));
  BERTH_ASSIGN_OR_RETURN(json scheme, ctx.post("/v1/schemes", body));
  ctx.print(scheme, "Created scheme " + cell(scheme, "id") + " (" + f.name + ", " +
                        format_rate(body["rate_bps"].get<int64_t>()) + ")\n");
  return Status::Ok();
}

Status run_scheme_fund(Context& ctx, const FundFlags& f) {
  BERTH_ASSIGN_OR_RETURN(std::string amount, checked_amount(f.amount));
  BERTH_ASSIGN_OR_RETURN(json scheme, ctx.post("/v1/schemes/" + path_segment(f.scheme) + "/fund",
                                               json{{"amount", amount}}));
  ctx.print(scheme,
            "Scheme " + f.scheme + " fund balance: " + ctx.money(scheme, "fund_balance") + "\n");
  return Status::Ok();
}

Result<json> award_body(const AwardFlags& f) {
  Result<std::string> amount = checked_amount(f.amount);
  if (!amount.ok()) return Status::Invalid("--amount: " + amount.status().message());
  if (f.gpus < 1) return Status::Invalid("--gpus: the award's GPU level must be at least 1");
  Result<int64_t> start = parse_time_ms(f.start);
  if (!start.ok()) return Status::Invalid("--start: " + start.status().message());
  Result<int64_t> end = parse_time_ms(f.end);
  if (!end.ok()) return Status::Invalid("--end: " + end.status().message());
  if (*end <= *start) return Status::Invalid("--end must be after --start");
  json body = {{"scheme", name_or_id(f.scheme)},
               {"project", name_or_id(f.project)},
               {"amount", *amount},
               {"gpu_level", f.gpus},
               {"start", f.start},
               {"end", f.end}};
  if (f.report_every != 0) body["report_every_months"] = f.report_every;
  if (f.report_grace != 0) body["report_grace_days"] = f.report_grace;
  return body;
}

Status run_award_create(Context& ctx, const AwardFlags& f) {
  BERTH_ASSIGN_OR_RETURN(json body, award_body(f));
  BERTH_ASSIGN_OR_RETURN(json award, ctx.post("/v1/awards", body));
  ctx.print(award,
            "Created award " + cell(award, "id") + " (" + f.project + " from " + f.scheme + ")\n");
  return Status::Ok();
}

void add_balance_and_transfers(CLI::App& app, Context& ctx) {
  auto& project = ctx.make<std::string>();
  CLI::App* balance =
      app.add_subcommand("balance", "wallet and award balances (all visible projects by default)");
  balance->add_option("project", project, "project name or id");
  on_run(balance, ctx, [&ctx, &project] { return run_balance(ctx, project); });

  auto& tf = ctx.make<TransferFlags>();
  CLI::App* transfers = app.add_subcommand("transfers", "ledger transfers");
  transfers->add_option("--account", tf.account, "only transfers to or from this account id");
  transfers->add_option("--job", tf.job, "only transfers for this job id");
  on_run(transfers, ctx, [&ctx, &tf] { return run_transfers(ctx, tf); });

  auto& top = ctx.make<TopupFlags>();
  CLI::App* topup = app.add_subcommand("topup", "add money to a project's wallet");
  topup->add_option("project", top.project, "project name or id")->required();
  topup->add_option("amount", top.amount, "amount in currency units, at most 4 decimals")
      ->required();
  topup->add_option("--reference", top.reference,
                    "payment reference; repeating it does not pay twice");
  on_run(topup, ctx, [&ctx, &top] { return run_topup(ctx, top); });

  auto& cl = ctx.make<CreditLimitFlags>();
  CLI::App* credit = app.add_subcommand(
      "credit-limit", "how far below zero a project's wallet may go (admin; 0: none)");
  credit->add_option("project", cl.project, "project name or id")->required();
  credit->add_option("amount", cl.limit, "the limit in currency units, at most 4 decimals")
      ->required();
  credit->add_option("--note", cl.note, "why (kept in the audit record)");
  on_run(credit, ctx, [&ctx, &cl] { return run_credit_limit(ctx, cl); });

  auto& rf = ctx.make<RefundFlags>();
  CLI::App* refund = app.add_subcommand(
      "refund",
      "refund (part of) an ended job's charge (admin): the subsidy part returns to the funder");
  refund->add_option("job", rf.job, "job id")->required();
  refund->add_option("--amount", rf.amount, "how much (default: all that is left to refund)");
  refund->add_option("--reason", rf.reason, "why (kept in the audit record)")->required();
  refund->add_option("--reference", rf.reference,
                     "your reference; repeating it does not refund twice");
  on_run(refund, ctx, [&ctx, &rf] { return run_refund(ctx, rf); });

  auto& af = ctx.make<AdjustFlags>();
  CLI::App* adjust = app.add_subcommand("adjust",
                                        "credit (positive) or debit (negative) a project's wallet "
                                        "against the centre's revenue (admin)");
  adjust->add_option("project", af.project, "project name or id")->required();
  adjust->add_option("amount", af.amount, "signed amount, e.g. 5 or -3.5 (or after --: -- -3.5)")
      ->required();
  adjust->add_option("--reason", af.reason, "why (kept in the audit record)")->required();
  adjust->add_option("--reference", af.reference,
                     "your reference; repeating it does not adjust twice");
  on_run(adjust, ctx, [&ctx, &af] { return run_adjust(ctx, af); });

  CLI::App* reconcile = app.add_subcommand(
      "reconcile",
      "recompute every balance and job charge from the transfers and report differences (admin); "
      "exits 1 if there are any");
  auto& state_dir = ctx.make<std::string>();
  reconcile->add_option("--state-dir", state_dir,
                        "reconcile this state directory's database directly, without a server "
                        "(berthd may be stopped)");
  on_run(reconcile, ctx, [&ctx, &state_dir] { return run_reconcile(ctx, state_dir); });
}

void add_scheme(CLI::App& app, Context& ctx) {
  CLI::App* scheme = app.add_subcommand("scheme", "funding schemes (admin)");
  scheme->require_subcommand(1);

  auto& sf = ctx.make<SchemeFlags>();
  CLI::App* create = scheme->add_subcommand("create", "create a scheme");
  create->add_option("name", sf.name, "scheme name")->required();
  create->add_option("--rate", sf.rate, "subsidy rate: 70%, 7000bps or 0.7")->required();
  create->add_option("--fund", sf.fund, "initial fund");
  create->add_option("--eligible", sf.eligible, "organisation kinds, comma-separated")
      ->required()
      ->delimiter(',')
      ->check(CLI::IsMember(core::kOrgKindNames.names()));
  create
      ->add_option("--shortfall", sf.shortfall,
                   "when an award cannot cover a job: " + core::kShortfallNames.choices())
      ->check(CLI::IsMember(core::kShortfallNames.names()));
  create->add_option("--exceptional-rate", sf.exceptional_rate,
                     "a higher rate only a reviewer can grant, e.g. 90%");
  create->add_option("--cap", sf.cap, "the most one project may be awarded in all");
  create->add_option("--window-open", sf.window_open, "applications open, YYYY-MM-DD (UTC)");
  create->add_option("--window-close", sf.window_close, "applications close, YYYY-MM-DD (UTC)");
  create->add_option("--award-validity", sf.validity_days, "the longest an award lasts, in days");
  on_run(create, ctx, [&ctx, &sf] { return run_scheme_create(ctx, sf); });

  auto& ff = ctx.make<FundFlags>();
  CLI::App* fund = scheme->add_subcommand("fund", "add money to a scheme's fund");
  fund->add_option("scheme", ff.scheme, "scheme name or id")->required();
  fund->add_option("amount", ff.amount, "amount")->required();
  on_run(fund, ctx, [&ctx, &ff] { return run_scheme_fund(ctx, ff); });

  CLI::App* list = scheme->add_subcommand("list", "list schemes");
  on_run(list, ctx, [&ctx] {
    return run_listing(ctx, "/v1/schemes", "schemes", in_currency(ctx, render_schemes));
  });
}

void add_award(CLI::App& app, Context& ctx) {
  CLI::App* award = app.add_subcommand("award", "awards of a scheme to projects");
  award->require_subcommand(1);

  auto& af = ctx.make<AwardFlags>();
  CLI::App* create =
      award->add_subcommand("create", "award money from a scheme to a project (admin)");
  create->add_option("--scheme", af.scheme, "scheme name or id")->required();
  create->add_option("--project", af.project, "project name or id")->required();
  create->add_option("--amount", af.amount, "amount")->required();
  create->add_option("--gpus", af.gpus, "GPU level: the most GPUs the award pays for at once")
      ->required();
  create->add_option("--start", af.start, "first day, YYYY-MM-DD (UTC)")->required();
  create->add_option("--end", af.end, "end, YYYY-MM-DD (UTC)")->required();
  create->add_option("--report-every", af.report_every,
                     "require a progress report every N months (default: none)");
  create->add_option("--report-grace", af.report_grace,
                     "days after each due date before a report is overdue");
  on_run(create, ctx, [&ctx, &af] { return run_award_create(ctx, af); });

  CLI::App* list = award->add_subcommand("list", "list awards");
  on_run(list, ctx, [&ctx] {
    return run_listing(ctx, "/v1/awards", "awards", in_currency(ctx, render_awards));
  });

  auto& sf = ctx.make<SupplementFlags>();
  CLI::App* supplement =
      award->add_subcommand("supplement", "add money from the fund, time, or both (reviewer)");
  supplement->add_option("id", sf.id, "award id")->required();
  supplement->add_option("--amount", sf.amount, "money to add from the scheme's fund");
  supplement->add_option("--end", sf.end, "a later end, YYYY-MM-DD (UTC)");
  supplement->add_option("--note", sf.note, "why, for the audit record");
  on_run(supplement, ctx, [&ctx, &sf] { return run_supplement(ctx, sf); });

  auto& cf = ctx.make<CloseFlags>();
  CLI::App* close = award->add_subcommand(
      "close", "end an award now; the unspent rest returns to the fund (reviewer)");
  close->add_option("id", cf.id, "award id")->required();
  close->add_option("--reason", cf.reason, "why, for the audit record")->required();
  on_run(close, ctx, [&ctx, &cf] { return run_close(ctx, cf); });

  auto& of = ctx.make<OrderFlags>();
  CLI::App* order =
      app.add_subcommand("funding-order", "the order a project's awards pay in (first pays first)");
  order->add_option("project", of.project, "project name or id")->required();
  order->add_option("awards", of.awards, "award ids, first paying first (none: the order granted)");
  on_run(order, ctx, [&ctx, &of] { return run_funding_order(ctx, of); });

  CLI::App* audit =
      app.add_subcommand("audit", "who changed money or awards, what, when and why (reviewer)");
  on_run(audit, ctx,
         [&ctx] { return run_listing(ctx, "/v1/audit", "audit", in_currency(ctx, render_audit)); });
}

}  // namespace

void add_money_commands(CLI::App& app, Context& ctx) {
  add_balance_and_transfers(app, ctx);
  add_scheme(app, ctx);
  add_award(app, ctx);
}

}  // namespace berth::cli
