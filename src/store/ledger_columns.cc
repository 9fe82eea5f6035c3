#include "store/ledger_columns.h"

#include <string>

namespace berth::store {

namespace {

using P = FirstUnreadable;

bool parse_account_kind(const std::string& text, core::AccountKind* out) {
  return core::kAccountKindNames.parse_into(text, out);
}

bool parse_pending_state(const std::string& text, core::PendingState* out) {
  return core::kPendingStateNames.parse_into(text, out);
}

// "pending,linked" for the readable column next to the flag bits.
std::string flags_text(uint32_t flags) {
  static constexpr struct {
    uint32_t bit;
    const char* name;
  } kNames[] = {{core::kPending, "pending"},
                {core::kPostPending, "post_pending"},
                {core::kVoidPending, "void_pending"},
                {core::kLinked, "linked"}};
  std::string out;
  for (const auto& n : kNames) {
    if ((flags & n.bit) == 0) continue;
    if (!out.empty()) out += ',';
    out += n.name;
  }
  return out;
}

// Columns written for people reading the table (flags_text, code_name): derived from the
// authoritative column beside them, never read back.
void ignore_value(TransferRow&, const ColumnValue&, P&) {}

}  // namespace

TransferRow new_transfer_row(const core::Transfer& transfer) {
  TransferRow row{transfer};
  if (transfer.flags & core::kPending) {
    row.hold = true;
    row.pending_state = core::PendingState::kPending;
  }
  return row;
}

const std::vector<AccountColumn>& account_columns() {
  using core::Account;
  static const std::vector<AccountColumn> columns = {
      integer_column<Account, P, &Account::id>("id"),
      enum_column<Account, "kind", &core::account_kind_name, &parse_account_kind, &Account::kind>(),
      integer_column<Account, P, &Account::no_overdraft>("no_overdraft"),
      integer_column<Account, P, &Account::owner>("owner_id"),
      text_column<Account, P, &Account::name>("name"),
      integer_column<Account, P, &Account::debits_pending>("debits_pending_minor"),
      integer_column<Account, P, &Account::debits_posted>("debits_posted_minor"),
      integer_column<Account, P, &Account::credits_pending>("credits_pending_minor"),
      integer_column<Account, P, &Account::credits_posted>("credits_posted_minor"),
      integer_column<Account, P, &Account::created_ms>("created_ms"),
      integer_column<Account, P, &Account::credit_limit_minor>("credit_limit_minor"),
  };
  return columns;
}

const std::vector<TransferColumn>& transfer_columns() {
  using core::Transfer;
  using R = TransferRow;
  constexpr auto t = &R::transfer;
  static const std::vector<TransferColumn> columns = {
      integer_column<R, P, t, &Transfer::id>("id"),
      integer_column<R, P, t, &Transfer::debit>("debit_account_id"),
      integer_column<R, P, t, &Transfer::credit>("credit_account_id"),
      integer_column<R, P, t, &Transfer::amount>("amount_minor"),
      integer_column<R, P, t, &Transfer::flags>("flags"),
      {"flags_text", ColumnType::kText,
       [](const R& r) {
         return ColumnValue{0, flags_text(r.transfer.flags)};
       },
       &ignore_value},
      integer_column<R, P, t, &Transfer::pending_id>("pending_id", ColumnType::kIdOrNull),
      integer_column<R, P, t, &Transfer::timeout_ms>("timeout_ms"),
      integer_column<R, P, t, &Transfer::code>("code"),
      {"code_name", ColumnType::kText,
       [](const R& r) {
         return ColumnValue{0, core::transfer_code_name(r.transfer.code)};
       },
       &ignore_value},
      integer_column<R, P, t, &Transfer::ref>("ref"),
      integer_column<R, P, t, &Transfer::timestamp_ms>("timestamp_ms"),
      {"pending_state", ColumnType::kTextOrNull,
       [](const R& r) {
         if (!r.hold) return ColumnValue{0, {}, /*null=*/true};
         return ColumnValue{0, core::pending_state_name(r.pending_state)};
       },
       [](R& r, const ColumnValue& v, P& p) {
         r.hold = !v.null;
         if (r.hold && !parse_pending_state(v.text, &r.pending_state))
           p.report("pending_state", v.text);
       }},
      integer_column<R, P, &R::posted_minor>("posted_minor"),
  };
  return columns;
}

const std::vector<TopUpColumn>& topup_columns() {
  using core::TopUp;
  static const std::vector<TopUpColumn> columns = {
      integer_column<TopUp, P, &TopUp::transfer>("transfer_id"),
      integer_column<TopUp, P, &TopUp::project>("project_id"),
      integer_column<TopUp, P, &TopUp::amount_minor>("amount_minor"),
      text_column<TopUp, P, &TopUp::reference>("reference"),
      integer_column<TopUp, P, &TopUp::created_ms>("created_ms"),
  };
  return columns;
}

const std::vector<AuditColumn>& audit_columns() {
  using core::AuditRecord;
  using R = AuditRecord;
  static const std::vector<AuditColumn> columns = {
      integer_column<R, P, &R::seq>("seq"),
      integer_column<R, P, &R::at_ms>("at_ms"),
      text_column<R, P, &R::user>("user_name"),
      text_column<R, P, &R::action>("action"),
      text_column<R, P, &R::subject>("subject"),
      integer_column<R, P, &R::amount_minor>("amount_minor"),
      integer_column<R, P, &R::transfer>("transfer_id", ColumnType::kIdOrNull),
      text_column<R, P, &R::note>("note"),
      text_column<R, P, &R::reference>("reference"),
  };
  return columns;
}

}  // namespace berth::store
