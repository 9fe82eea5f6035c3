#include "store/batch.h"

#include "core/ledger.h"

namespace berth::store {

namespace {

using P = FirstUnreadable;

// Pending updates are only written, never read back through this description.
bool no_parse(const std::string&, core::PendingState*) { return false; }

std::string joined(const std::set<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::string write_sql(Write statement) {
  switch (statement) {
    case Write::kUpsertOrg:
      return insert_sql("orgs", column_names(org_columns()), "id");
    case Write::kUpsertAccount:
      return insert_sql("accounts", column_names(account_columns()), "id");
    case Write::kInsertProject:
      return insert_sql("projects", column_names(project_columns()));
    case Write::kInsertScheme:
      return insert_sql("schemes", column_names(scheme_columns()));
    case Write::kUpsertAward:
      return insert_sql("awards", column_names(award_columns()), "id");
    case Write::kInsertTransfer:
      return insert_sql("transfers", column_names(transfer_columns()));
    case Write::kUpdatePending:
      return "UPDATE transfers SET pending_state = ?, posted_minor = ? WHERE id = ? AND "
             "pending_state IS NOT NULL";
    case Write::kInsertTopup:
      return insert_sql("topups", column_names(topup_columns()));
    case Write::kInsertAudit:
      return insert_sql("audit", column_names(audit_columns()));
    case Write::kDeleteFundingOrder:
      return "DELETE FROM funding_order WHERE project_id = ?";
    case Write::kInsertFundingOrder:
      return insert_sql("funding_order", column_names(funding_order_columns()));
    case Write::kDeleteCriteria:
      return "DELETE FROM scheme_criteria WHERE scheme_id = ?";
    case Write::kInsertCriterion:
      return insert_sql("scheme_criteria", column_names(criterion_columns()));
    case Write::kUpsertApplication:
      return insert_sql("applications", column_names(application_columns()), "id");
    case Write::kDeleteReviews:
      return "DELETE FROM application_reviews WHERE application_id = ?";
    case Write::kInsertReview:
      return insert_sql("application_reviews", column_names(review_columns()));
    case Write::kInsertApplicationEvent:
      return insert_sql("application_events", column_names(application_event_columns()));
    case Write::kUpsertReport:
      return insert_sql("progress_reports", column_names(report_columns()), "award_id, period");
    case Write::kInsertReportEvent:
      return insert_sql("progress_report_events", column_names(report_event_columns()));
    case Write::kUpsertJob:
      return insert_sql("jobs", column_names(job_columns()), "id");
    case Write::kUpsertSubmitKey:
      return insert_sql("submit_keys", column_names(submit_key_columns()),
                        "user_name, org_id, key");
    case Write::kUpsertMeta:
      return insert_sql("meta", column_names(meta_columns()), "name");
    case Write::kDeleteNodes:
      return "DELETE FROM nodes WHERE ? = 0";  // every row (the parameter is always 0)
    case Write::kInsertNode:
      return insert_sql("nodes", column_names(node_columns()));
    case Write::kUpdateNode:
      return update_sql("nodes", column_names(node_columns()), "name");
    case Write::kUpsertToken:
      return insert_sql("tokens", column_names(token_columns()), "token_hash");
  }
  return "";
}

const std::vector<Column<MetaRow>>& meta_columns() {
  static const std::vector<Column<MetaRow>> columns = {
      text_column<MetaRow, P, &MetaRow::name>("name"),
      integer_column<MetaRow, P, &MetaRow::value>("value"),
  };
  return columns;
}

const std::vector<Column<ParentRow>>& parent_columns() {
  static const std::vector<Column<ParentRow>> columns = {
      integer_column<ParentRow, P, &ParentRow::id>("parent"),
  };
  return columns;
}

const std::vector<Column<core::PendingUpdate>>& pending_columns() {
  using core::PendingUpdate;
  static const std::vector<Column<PendingUpdate>> columns = {
      enum_column<PendingUpdate, "pending_state", &core::pending_state_name, &no_parse,
                  &PendingUpdate::state>(),
      integer_column<PendingUpdate, P, &PendingUpdate::posted_minor>("posted_minor"),
      integer_column<PendingUpdate, P, &PendingUpdate::id>("id"),
  };
  return columns;
}

const std::vector<Column<core::Node>>& node_update_columns() {
  static const std::vector<Column<core::Node>> columns = [] {
    std::vector<Column<core::Node>> c = node_columns();
    c.push_back(text_column<core::Node, P, &core::Node::name>("name"));
    return c;
  }();
  return columns;
}

Status with_context(Status st, const char* what, uint64_t id) {
  if (st.ok()) return st;
  const std::string key = id != 0 ? " " + std::to_string(id) : "";
  return Status(st.code(), std::string(what) + key + ": " + st.message());
}

Status bad_value(const char* table, const char* column, uint64_t id, const std::string& text) {
  return Status::Internal("store: " + std::string(table) + " " + std::to_string(id) + " has " +
                          column + " '" + text + "', which this berth does not know");
}

const std::vector<DescribedTable>& described_tables() {
  static const std::vector<DescribedTable> tables = [] {
    std::vector<std::string_view> transfers = column_names(transfer_columns());
    transfers.push_back("seq");
    return std::vector<DescribedTable>{
        {"orgs", column_names(org_columns())},
        {"accounts", column_names(account_columns())},
        {"projects", column_names(project_columns())},
        {"schemes", column_names(scheme_columns())},
        {"scheme_criteria", column_names(criterion_columns())},
        {"awards", column_names(award_columns())},
        {"funding_order", column_names(funding_order_columns())},
        {"transfers", transfers},
        {"topups", column_names(topup_columns())},
        {"audit", column_names(audit_columns())},
        {"applications", column_names(application_columns())},
        {"application_reviews", column_names(review_columns())},
        {"application_events", column_names(application_event_columns())},
        {"progress_reports", column_names(report_columns())},
        {"progress_report_events", column_names(report_event_columns())},
        {"jobs", column_names(job_columns())},
        {"nodes", column_names(node_columns())},
        {"tokens", column_names(token_columns())},
        {"submit_keys", column_names(submit_key_columns())},
    };
  }();
  return tables;
}

Status compare_table_columns(const std::string& table, std::set<std::string> actual,
                             const std::vector<std::string_view>& names) {
  std::set<std::string> missing;
  for (std::string_view n : names) {
    if (actual.erase(std::string(n)) == 0) missing.insert(std::string(n));
  }
  if (missing.empty() && actual.empty()) return Status::Ok();
  std::string message = "store: table " + table + " does not match berth's description of it";
  if (!missing.empty()) message += "; missing columns: " + joined(missing);
  if (!actual.empty()) message += "; columns berth does not know: " + joined(actual);
  return Status::Internal(message);
}

}  // namespace berth::store
