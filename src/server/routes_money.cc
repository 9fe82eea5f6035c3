// The routes of money: wallets (top-ups, credit limits, adjustments, refunds), how a project's
// awards pay, balances and statements, and the ledger's accounts and transfers
// (docs/wallets.md, docs/api.md).
#include <httplib.h>

#include <algorithm>

#include "common/money.h"
#include "common/timefmt.h"
#include "core/statements.h"
#include "server/lookups.h"
#include "server/query_fields.h"
#include "server/request_fields.h"
#include "server/routes.h"
#include "server/statement_views.h"
#include "server/views.h"

namespace berth::server {

namespace {

using json = nlohmann::json;

// A reply in another format than JSON (a statement's CSV or HTML page).
Reply text_reply(std::string text, const char* content_type) {
  Reply r;
  r.content_type = content_type;
  r.text = std::move(text);
  return r;
}

Reply top_up(Call& call) {
  BERTH_ASSIGN_OR_REPLY(p, find_project(call.engine, json(call.param(1)), call.who));
  BERTH_ASSIGN_OR_REPLY(amount, amount_field(call.body, "amount"));
  BERTH_ASSIGN_OR_REPLY(reference, str_field(call.body, "reference", false));
  // An Idempotency-Key header serves as the payment reference when the body gives none.
  const std::string key = call.req.get_header_value("Idempotency-Key");
  if (!key.empty() && !reference.empty() && key != reference)
    return fail(Status::Invalid(
        "the Idempotency-Key header and field 'reference' differ; give one or make them equal"));
  if (reference.empty()) reference = key;
  bool replayed = false;
  BERTH_ASSIGN_OR_REPLY(t, call.engine.top_up(p->id, amount, reference, call.now_ms, &replayed));
  const core::Account* w = call.engine.ledger().account(p->wallet);
  return ok({{"transfer_id", t.transfer.value},
             {"project_id", p->id.value},
             {"amount", format_amount(t.amount_minor)},
             {"reference", t.reference},
             {"wallet_balance", format_amount(w->balance())},
             {"replayed", replayed}},
            replayed ? 200 : 201);
}

Reply set_funding_order(Call& call) {
  BERTH_ASSIGN_OR_REPLY(p, find_project(call.engine, json(call.param(1)), call.who));
  if (!call.body.contains("awards") || !call.body["awards"].is_array())
    return fail(
        Status::Invalid("field 'awards' must be a list of award ids, the first paying first"));
  std::vector<AwardId> order;
  for (const json& id : call.body["awards"]) {
    if (!id.is_number_unsigned())
      return fail(Status::Invalid("field 'awards' must hold award ids, got " + id.dump()));
    order.emplace_back(id.get<uint64_t>());
  }
  if (order.size() > 64) return fail(Status::Invalid("field 'awards' names at most 64 awards"));
  if (auto st = call.engine.set_funding_order(p->id, order, call.now_ms); !st.ok()) return fail(st);
  return ok(balance_json(call.engine, *p, call.now_ms));
}

Reply get_balance(Call& call) {
  BERTH_ASSIGN_OR_REPLY(p, find_project(call.engine, json(call.param(1)), call.who));
  return ok(balance_json(call.engine, *p, call.now_ms));
}

Reply get_statement(Call& call) {
  BERTH_ASSIGN_OR_REPLY(p, find_project(call.engine, json(call.param(1)), call.who));
  BERTH_ASSIGN_OR_REPLY(month, month_param(call.req, call.now_ms));
  const std::string format =
      call.req.has_param("format") ? call.req.get_param_value("format") : "json";
  if (format != "json" && format != "csv" && format != "html")
    return fail(Status::Invalid("query parameter 'format' must be json, csv or html, got '" +
                                format + "'"));
  BERTH_ASSIGN_OR_REPLY(st,
                        core::project_statement(call.engine, p->id, month.from_ms, month.to_ms));
  if (format == "csv") return text_reply(statement_csv(st), "text/csv; charset=utf-8");
  if (format == "html")
    return text_reply(statement_html(st, call.daemon.config()), "text/html; charset=utf-8");
  json out = statement_json(st);
  out["month"] = format_month(month.from_ms);
  out["currency"] = call.daemon.config().currency;
  return ok(out);
}

Reply set_credit_limit(Call& call) {
  BERTH_ASSIGN_OR_REPLY(p, find_project(call.engine, json(call.param(1)), call.who));
  BERTH_ASSIGN_OR_REPLY(limit, amount_field(call.body, "limit"));
  BERTH_ASSIGN_OR_REPLY(note, str_field(call.body, "note", false));
  if (auto st = call.engine.set_credit_limit(p->id, limit, note, call.now_ms); !st.ok())
    return fail(st);
  return ok(balance_json(call.engine, *p, call.now_ms));
}

Reply refund_job(Call& call) {
  BERTH_ASSIGN_OR_REPLY(j, find_job(call.engine, call.param(1), call.who));
  BERTH_ASSIGN_OR_REPLY(reason, str_field(call.body, "reason", true));
  BERTH_ASSIGN_OR_REPLY(reference, str_field(call.body, "reference", false));
  Minor amount = 0;  // absent: the whole refundable rest
  if (call.body.contains("amount") && !call.body["amount"].is_null()) {
    BERTH_ASSIGN_OR_REPLY(asked, amount_field(call.body, "amount"));
    if (asked <= 0) return fail(Status::Invalid("field 'amount' must be positive"));
    amount = asked;
  }
  bool replayed = false;
  BERTH_ASSIGN_OR_REPLY(
      refunded, call.engine.refund_job(j->id, amount, reason, reference, call.now_ms, &replayed));
  const core::AuditRecord* record =
      reference.empty() ? &call.engine.audit().back() : call.engine.money_reference(reference);
  json out = job_json(call.engine, *j);
  out["refund"] = {{"amount", format_amount(refunded)},
                   {"transfer_id", record->transfer.value},
                   {"reference", reference}};
  out["replayed"] = replayed;
  return ok(out, replayed ? 200 : 201);
}

Reply adjust_wallet(Call& call) {
  BERTH_ASSIGN_OR_REPLY(p, find_project(call.engine, json(call.param(1)), call.who));
  BERTH_ASSIGN_OR_REPLY(amount, amount_field(call.body, "amount", true));
  BERTH_ASSIGN_OR_REPLY(reason, str_field(call.body, "reason", true));
  BERTH_ASSIGN_OR_REPLY(reference, str_field(call.body, "reference", false));
  bool replayed = false;
  BERTH_ASSIGN_OR_REPLY(transfer, call.engine.adjust_wallet(p->id, amount, reason, reference,
                                                            call.now_ms, &replayed));
  json out = balance_json(call.engine, *p, call.now_ms);
  out["adjustment"] = {
      {"amount", format_amount(amount)}, {"transfer_id", transfer.value}, {"reference", reference}};
  out["replayed"] = replayed;
  return ok(out, replayed ? 200 : 201);
}

Reply list_accounts(Call& call) {
  json list = json::array();
  for (const core::Account* a : call.engine.ledger().accounts())
    if (sees_account(call.engine, *a, call.who)) list.push_back(account_json(*a));
  return ok({{"accounts", list}});
}

Reply list_transfers(Call& call) {
  BERTH_ASSIGN_OR_REPLY(account, query_int(call.req, "account", 0));
  BERTH_ASSIGN_OR_REPLY(job, query_job_id(call.engine, call.req, call.who));
  BERTH_ASSIGN_OR_REPLY(limit, page_limit(call.req));
  BERTH_ASSIGN_OR_REPLY(after, query_int(call.req, "after", 0));
  // Members see the transfers of their own organisation's jobs only.
  if (Status st = may_list_transfers(call.engine, job, call.who); !st.ok()) return fail(st);
  // Transfers are listed in the ledger's order; the cursor is a position in it (ids are not
  // in order: a job's transfer ids derive from the job's).
  json list = json::array();
  const core::Ledger& l = call.engine.ledger();
  const std::vector<core::Transfer>& all = l.transfers_in_order();
  size_t i = static_cast<size_t>(std::min<uint64_t>(static_cast<uint64_t>(after), all.size()));
  const size_t end = std::min(all.size(), i + kScanPerRequest);
  for (; i < end && static_cast<int64_t>(list.size()) < limit; ++i) {
    const core::Transfer& t = all[i];
    if (job && !((t.code == core::kCodeJobSubsidy || t.code == core::kCodeJobCopay) &&
                 t.ref == static_cast<uint64_t>(job)))
      continue;
    if (account) {
      const core::Transfer* base = t.pending_id.valid() ? l.transfer(t.pending_id) : &t;
      if (base->debit.value != static_cast<uint64_t>(account) &&
          base->credit.value != static_cast<uint64_t>(account))
        continue;
    }
    list.push_back(transfer_json(l, t));
  }
  return ok({{"transfers", list}, {"next", i < all.size() ? json(i) : json(nullptr)}});
}

}  // namespace

std::vector<Route> money_routes() {
  return {
      // A member tops up and orders the awards of their own organisation's projects.
      {Method::kPost, "/v1/projects/([^/]+)/topups", Access::kMember, top_up,
       "a reviewer cannot move wallet money"},
      {Method::kPost, "/v1/projects/([^/]+)/funding-order", Access::kMember, set_funding_order,
       "a reviewer does not choose how a project pays"},
      {Method::kGet, "/v1/projects/([^/]+)/balance", Access::kAuthenticated, get_balance},
      {Method::kGet, "/v1/projects/([^/]+)/statement", Access::kAuthenticated, get_statement},
      // Wallet credit, refunds and adjustments are the centre admin's alone.
      {Method::kPost, "/v1/projects/([^/]+)/credit-limit", Access::kAdmin, set_credit_limit,
       "only an admin may set a wallet's credit limit"},
      {Method::kPost, "/v1/jobs/([^/]+)/refund", Access::kAdmin, refund_job,
       "only an admin may refund a job"},
      {Method::kPost, "/v1/projects/([^/]+)/adjustments", Access::kAdmin, adjust_wallet,
       "only an admin may adjust a wallet"},
      {Method::kGet, "/v1/accounts", Access::kAuthenticated, list_accounts},
      {Method::kGet, "/v1/transfers", Access::kAuthenticated, list_transfers},
  };
}

}  // namespace berth::server
