// What both stores write and read, in one place: the statements of a batch (Write, with their
// SQL in write_sql), the order a ChangeSet's rows are written in (write_changes), node and token
// writes, and how the whole state is read back (load_changes). Each store supplies how one
// statement runs and how one SELECT's rows are read:
//
//   Writer: Status row(const Target&, const std::vector<Column<Row, P>>&, const Row&)
//           binds the row's columns to target.statement and runs it (SQLite: at once;
//           PostgreSQL: in a pipeline, checked when its results come back).
//   Reader: Status select(const std::string& sql, const std::vector<Column<Row, P>>&, Fn)
//           calls fn(Row&&, P&&) for each row read through the columns' setters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/change_set.h"
#include "core/model.h"
#include "store/application_columns.h"
#include "store/columns.h"
#include "store/entity_columns.h"
#include "store/funding_columns.h"
#include "store/job_columns.h"
#include "store/ledger_columns.h"
#include "store/sql_text.h"

namespace berth::store {

// The statements the stores write with, prepared once.
enum class Write : int {
  kUpsertOrg,
  kUpsertAccount,
  kInsertProject,
  kInsertScheme,
  kUpsertAward,
  kInsertTransfer,
  kUpdatePending,
  kInsertTopup,
  kInsertAudit,
  kDeleteFundingOrder,
  kInsertFundingOrder,
  kDeleteCriteria,
  kInsertCriterion,
  kUpsertApplication,
  kDeleteReviews,
  kInsertReview,
  kInsertApplicationEvent,
  kUpsertReport,
  kInsertReportEvent,
  kUpsertJob,
  kUpsertSubmitKey,
  kUpsertMeta,
  kDeleteNodes,
  kInsertNode,
  kUpdateNode,
  kUpsertToken,
};
inline constexpr int kWriteCount = static_cast<int>(Write::kUpsertToken) + 1;

// The statement's SQL, with `?` placeholders bound from its row's columns in order.
std::string write_sql(Write statement);

// One statement to run and what a failure names: "<what> <key>: <error>". With `missing` set,
// the statement must change exactly one row, else it fails with that message and missing_code.
struct Target {
  Write statement;
  const char* what;
  uint64_t key = 0;
  std::string missing;
  Code missing_code = Code::kNotFound;
};

// Meta rows: one counter each.
inline constexpr const char* kMetaNextJobId = "next_job_id";
inline constexpr const char* kMetaNextAccountId = "next_account_id";
inline constexpr const char* kMetaNextTransferSeq = "next_transfer_seq";
inline constexpr const char* kMetaLastAliveMs = "last_alive_ms";
inline constexpr const char* kMetaStateId = "state_id";
// The PostgreSQL store's number of its last committed batch (pg_store.h, "Reconnects").
inline constexpr const char* kMetaLastBatch = "last_batch";

struct MetaRow {
  std::string name;
  int64_t value = 0;
};
const std::vector<Column<MetaRow>>& meta_columns();

// The parent whose child rows a delete removes (a project's funding order, ...), or none.
struct ParentRow {
  uint64_t id = 0;
};
const std::vector<Column<ParentRow>>& parent_columns();

// A hold's new state: pending_state, posted_minor, then the transfer's id.
const std::vector<Column<core::PendingUpdate>>& pending_columns();

// A node's every column, then its name again (the key of kUpdateNode).
const std::vector<Column<core::Node>>& node_update_columns();

// Adds what was being written (and its key, unless 0) to a failed Status; builds no string when
// all is well.
Status with_context(Status st, const char* what, uint64_t id);

// A row's key in messages: its first column (an id, a seq, the owner of a child row).
template <typename Row, typename Problems>
uint64_t row_key(const std::vector<Column<Row, Problems>>& columns, const Row& row) {
  return static_cast<uint64_t>(columns.front().get(row).integer);
}

template <typename Writer, typename Row, typename Problems>
Status write_row(Writer& w, Write statement, const std::vector<Column<Row, Problems>>& columns,
                 const Row& row, const char* what) {
  return w.row(Target{statement, what, row_key(columns, row), {}}, columns, row);
}

template <typename Writer>
Status write_meta(Writer& w, const char* name, int64_t value) {
  return w.row(Target{Write::kUpsertMeta, "meta", 0, {}}, meta_columns(), MetaRow{name, value});
}

// Replaces the rows a parent owns (a scheme's criteria, a project's funding order, an
// application's reviews): deletes them, then inserts make_row(item, position) for each of
// `items` at positions 0, 1, ...; a failure names `what` and the parent.
template <typename Writer, typename Row, typename Item, typename MakeRow>
Status replace_rows(Writer& w, Write del, Write insert,
                    const std::vector<Column<Row, FirstUnreadable>>& columns, uint64_t parent,
                    const std::vector<Item>& items, const char* what, MakeRow&& make_row) {
  BERTH_RETURN_IF_ERROR(w.row(Target{del, what, parent, {}}, parent_columns(), ParentRow{parent}));
  for (size_t i = 0; i < items.size(); ++i) {
    BERTH_RETURN_IF_ERROR(
        write_row(w, insert, columns, make_row(items[i], static_cast<int64_t>(i)), what));
  }
  return Status::Ok();
}

// Writes one batch: rows in the order their foreign keys need (accounts before the projects,
// schemes and awards that own them, transfers before their pending states and top-ups, jobs
// before their idempotency keys), then the counters with last_alive_ms = now_ms.
template <typename Writer>
Status write_changes(Writer& w, const core::ChangeSet& c, int64_t now_ms) {
  for (const core::Org& o : c.orgs)
    BERTH_RETURN_IF_ERROR(write_row(w, Write::kUpsertOrg, org_columns(), o, "org"));
  for (const core::Account& a : c.accounts)
    BERTH_RETURN_IF_ERROR(write_row(w, Write::kUpsertAccount, account_columns(), a, "account"));
  for (const core::Project& p : c.projects)
    BERTH_RETURN_IF_ERROR(write_row(w, Write::kInsertProject, project_columns(), p, "project"));
  for (const core::Scheme& s : c.schemes)
    BERTH_RETURN_IF_ERROR(write_row(w, Write::kInsertScheme, scheme_columns(), s, "scheme"));
  for (const core::Award& a : c.awards)
    BERTH_RETURN_IF_ERROR(write_row(w, Write::kUpsertAward, award_columns(), a, "award"));
  for (const core::Transfer& t : c.transfers) {
    BERTH_RETURN_IF_ERROR(
        write_row(w, Write::kInsertTransfer, transfer_columns(), new_transfer_row(t), "transfer"));
  }
  for (const core::PendingUpdate& u : c.pending) {
    const std::string id = std::to_string(u.id.value);
    BERTH_RETURN_IF_ERROR(w.row(
        Target{
            Write::kUpdatePending, "pending state of transfer", u.id.value,
            "store: pending state for transfer " + id + ", which is not a stored pending transfer",
            Code::kInternal},
        pending_columns(), u));
  }
  for (const core::TopUp& t : c.topups)
    BERTH_RETURN_IF_ERROR(write_row(w, Write::kInsertTopup, topup_columns(), t, "top-up"));
  for (const core::AuditRecord& r : c.audit)
    BERTH_RETURN_IF_ERROR(write_row(w, Write::kInsertAudit, audit_columns(), r, "audit record"));
  for (const auto& [project, order] : c.funding_orders) {
    BERTH_RETURN_IF_ERROR(replace_rows(
        w, Write::kDeleteFundingOrder, Write::kInsertFundingOrder, funding_order_columns(), project,
        order, "funding order of project", [id = project](AwardId award, int64_t pos) {
          return FundingOrderRow{ProjectId(id), pos, award};
        }));
  }
  for (const auto& [scheme, criteria] : c.criteria) {
    BERTH_RETURN_IF_ERROR(replace_rows(
        w, Write::kDeleteCriteria, Write::kInsertCriterion, criterion_columns(), scheme, criteria,
        "criteria of scheme", [id = scheme](const core::Criterion& criterion, int64_t pos) {
          return CriterionRow{SchemeId(id), pos, criterion};
        }));
  }
  for (const core::Application& a : c.applications) {
    BERTH_RETURN_IF_ERROR(
        write_row(w, Write::kUpsertApplication, application_columns(), a, "application"));
    BERTH_RETURN_IF_ERROR(
        replace_rows(w, Write::kDeleteReviews, Write::kInsertReview, review_columns(), a.id.value,
                     a.reviews, "reviews of application", [&](const core::Review& r, int64_t pos) {
                       return ReviewRow{a.id, pos, r};
                     }));
  }
  for (const core::ApplicationEvent& e : c.application_events) {
    BERTH_RETURN_IF_ERROR(write_row(w, Write::kInsertApplicationEvent, application_event_columns(),
                                    e, "application event"));
  }
  for (const core::ProgressReport& r : c.reports) {
    BERTH_RETURN_IF_ERROR(
        write_row(w, Write::kUpsertReport, report_columns(), r, "progress report of award"));
  }
  for (const core::ReportEvent& e : c.report_events) {
    BERTH_RETURN_IF_ERROR(write_row(w, Write::kInsertReportEvent, report_event_columns(), e,
                                    "progress report event"));
  }
  for (const core::Job& j : c.jobs)
    BERTH_RETURN_IF_ERROR(write_row(w, Write::kUpsertJob, job_columns(), j, "job"));
  for (const core::SubmitKey& k : c.submit_keys) {
    BERTH_RETURN_IF_ERROR(
        w.row(Target{Write::kUpsertSubmitKey, "idempotency key of job", k.job.value, {}},
              submit_key_columns(), k));
  }
  BERTH_RETURN_IF_ERROR(write_meta(w, kMetaNextJobId, static_cast<int64_t>(c.next_job_id)));
  BERTH_RETURN_IF_ERROR(write_meta(w, kMetaNextAccountId, static_cast<int64_t>(c.next_account_id)));
  BERTH_RETURN_IF_ERROR(
      write_meta(w, kMetaNextTransferSeq, static_cast<int64_t>(c.next_transfer_seq)));
  return write_meta(w, kMetaLastAliveMs, now_ms);
}

// Replaces the nodes table with `nodes`.
template <typename Writer>
Status write_nodes(Writer& w, const std::vector<core::Node>& nodes) {
  BERTH_RETURN_IF_ERROR(
      w.row(Target{Write::kDeleteNodes, "nodes", 0, {}}, parent_columns(), ParentRow{}));
  for (const core::Node& n : nodes)
    BERTH_RETURN_IF_ERROR(write_row(w, Write::kInsertNode, node_columns(), n, "node"));
  return Status::Ok();
}

// Writes every column of the stored node named node.name; kNotFound when there is none.
template <typename Writer>
Status write_node(Writer& w, const core::Node& node) {
  return w.row(
      Target{Write::kUpdateNode, "node", node.id.value, "store: no node named '" + node.name + "'"},
      node_update_columns(), node);
}

template <typename Writer>
Status write_tokens(Writer& w, const std::vector<TokenRow>& rows) {
  for (const TokenRow& row : rows)
    BERTH_RETURN_IF_ERROR(w.row(Target{Write::kUpsertToken, "token", 0, {}}, token_columns(), row));
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Reading

Status bad_value(const char* table, const char* column, uint64_t id, const std::string& text);

// Reads each row `sql` selects (the description's columns, in order) and hands it to
// add(Row&&); a value this berth cannot read fails the load, naming `what`, the row's key and
// the column.
template <typename Reader, typename Row, typename Add>
Status read_rows(Reader& r, const std::string& sql,
                 const std::vector<Column<Row, FirstUnreadable>>& columns, const char* what,
                 Add&& add) {
  return r.select(sql, columns, [&](Row&& row, FirstUnreadable&& unreadable) -> Status {
    if (unreadable.column != nullptr)
      return bad_value(what, unreadable.column, row_key(columns, row), unreadable.text);
    return add(std::move(row));
  });
}

// Every row of `table` in `order_by`, appended to *out.
template <typename Reader, typename Row>
Status read_table(Reader& r, const char* table,
                  const std::vector<Column<Row, FirstUnreadable>>& columns, const char* order_by,
                  const char* what, std::vector<Row>* out) {
  return read_rows(r, select_sql(table, column_names(columns), order_by), columns, what,
                   [&](Row&& row) {
                     out->push_back(std::move(row));
                     return Status::Ok();
                   });
}

// The counters, and *last_alive_ms (0 when never written).
template <typename Reader>
Status load_meta(Reader& r, core::ChangeSet* rows, int64_t* last_alive_ms) {
  return read_rows(r, select_sql("meta", column_names(meta_columns()), "name"), meta_columns(),
                   "meta", [&](MetaRow&& m) {
                     const auto value = static_cast<uint64_t>(m.value);
                     if (m.name == kMetaNextJobId) rows->next_job_id = value;
                     if (m.name == kMetaNextAccountId) rows->next_account_id = value;
                     if (m.name == kMetaNextTransferSeq) rows->next_transfer_seq = value;
                     if (m.name == kMetaLastAliveMs) *last_alive_ms = m.value;
                     return Status::Ok();
                   });
}

// Transfers in the order applied, and the state of each hold.
template <typename Reader>
Status load_transfers(Reader& r, core::ChangeSet* rows) {
  return read_rows(r, select_sql("transfers", column_names(transfer_columns()), "seq"),
                   transfer_columns(), "transfer", [&](TransferRow&& t) {
                     if (t.hold) {
                       rows->pending.push_back(
                           core::PendingUpdate{t.transfer.id, t.pending_state, t.posted_minor});
                     }
                     rows->transfers.push_back(t.transfer);
                     return Status::Ok();
                   });
}

// Top-ups in the order of their transfers.
template <typename Reader>
Status load_topups(Reader& r, core::ChangeSet* rows) {
  const std::string sql =
      "SELECT " + join_columns(column_names(topup_columns()), "topups.") +
      " FROM topups JOIN transfers ON transfers.id = topups.transfer_id ORDER BY transfers.seq";
  return read_rows(r, sql, topup_columns(), "top-up", [&](core::TopUp&& t) {
    rows->topups.push_back(std::move(t));
    return Status::Ok();
  });
}

// Jobs by id. A field this berth cannot read gets a safe default and is reported, never a failed
// load: Engine::Restore decides what becomes of the job (store/README.md, "Rows that cannot be
// read").
template <typename Reader>
Status load_jobs(Reader& r, core::ChangeSet* rows) {
  return r.select(select_sql("jobs", column_names(job_columns()), "id"), job_columns(),
                  [&](core::Job&& j, core::JobRowProblem&& problem) {
                    if (!problem.what.empty()) rows->job_problems[j.id.value] = std::move(problem);
                    rows->jobs.push_back(std::move(j));
                    return Status::Ok();
                  });
}

// Applications by id with their reviews, schemes' criteria, and the applications' history.
template <typename Reader>
Status load_applications(Reader& r, core::ChangeSet* rows) {
  BERTH_RETURN_IF_ERROR(read_table(r, "applications", application_columns(), "id", "application",
                                   &rows->applications));
  BERTH_RETURN_IF_ERROR(read_rows(
      r,
      select_sql("application_reviews", column_names(review_columns()), "application_id, position"),
      review_columns(), "application review of", [&](ReviewRow&& v) {
        const uint64_t app = v.application.value;
        if (app == 0 || app > rows->applications.size())
          return Status::Internal("store: a review names application " + std::to_string(app) +
                                  ", which does not exist");
        rows->applications[app - 1].reviews.push_back(std::move(v.review));
        return Status::Ok();
      }));
  BERTH_RETURN_IF_ERROR(read_rows(
      r, select_sql("scheme_criteria", column_names(criterion_columns()), "scheme_id, position"),
      criterion_columns(), "criteria of scheme", [&](CriterionRow&& c) {
        rows->criteria[c.scheme.value].push_back(std::move(c.criterion));
        return Status::Ok();
      }));
  return read_table(r, "application_events", application_event_columns(), "seq",
                    "application event", &rows->application_events);
}

// Each project's stated funding order.
template <typename Reader>
Status load_funding_orders(Reader& r, core::ChangeSet* rows) {
  return read_rows(
      r, select_sql("funding_order", column_names(funding_order_columns()), "project_id, position"),
      funding_order_columns(), "funding order of project", [&](FundingOrderRow&& f) {
        rows->funding_orders[f.project.value].push_back(f.award);
        return Status::Ok();
      });
}

// Every row back as a ChangeSet for Engine::Restore (the caller holds one read transaction);
// *last_alive_ms the last commit's now_ms, 0 if none.
template <typename Reader>
Status load_changes(Reader& r, core::ChangeSet* rows, int64_t* last_alive_ms) {
  BERTH_RETURN_IF_ERROR(load_meta(r, rows, last_alive_ms));
  BERTH_RETURN_IF_ERROR(read_table(r, "orgs", org_columns(), "id", "org", &rows->orgs));
  BERTH_RETURN_IF_ERROR(
      read_table(r, "projects", project_columns(), "id", "project", &rows->projects));
  BERTH_RETURN_IF_ERROR(read_table(r, "schemes", scheme_columns(), "id", "scheme", &rows->schemes));
  BERTH_RETURN_IF_ERROR(read_table(r, "awards", award_columns(), "id", "award", &rows->awards));
  BERTH_RETURN_IF_ERROR(
      read_table(r, "accounts", account_columns(), "id", "account", &rows->accounts));
  BERTH_RETURN_IF_ERROR(load_transfers(r, rows));
  BERTH_RETURN_IF_ERROR(load_topups(r, rows));
  BERTH_RETURN_IF_ERROR(load_jobs(r, rows));
  BERTH_RETURN_IF_ERROR(load_applications(r, rows));
  BERTH_RETURN_IF_ERROR(
      read_table(r, "audit", audit_columns(), "seq", "audit record", &rows->audit));
  BERTH_RETURN_IF_ERROR(load_funding_orders(r, rows));
  BERTH_RETURN_IF_ERROR(read_table(r, "progress_reports", report_columns(), "award_id, period",
                                   "progress report", &rows->reports));
  BERTH_RETURN_IF_ERROR(read_table(r, "progress_report_events", report_event_columns(), "seq",
                                   "progress report event", &rows->report_events));
  return read_table(r, "submit_keys", submit_key_columns(), "job_id", "idempotency key",
                    &rows->submit_keys);
}

// The nodes table, by id.
template <typename Reader>
Result<std::vector<core::Node>> read_nodes(Reader& r) {
  std::vector<core::Node> out;
  const Status st = read_table(r, "nodes", node_columns(), "id", "node", &out);
  if (!st.ok()) return Status(st.code(), "read nodes: " + st.message());
  return out;
}

}  // namespace berth::store
