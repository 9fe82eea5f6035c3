// The column descriptions (store/columns.h): each table's columns named once, with a getter and
// a setter that agree, and the check that a table in the database has exactly those columns.
#include "store/columns.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <set>
#include <string>

#include "store/application_columns.h"
#include "store/entity_columns.h"
#include "store/funding_columns.h"
#include "store/job_columns.h"
#include "store/ledger_columns.h"
#include "store/sqlite_columns.h"
#include "store/sqlite_db.h"

namespace berth::store {
namespace {

sqlite::DbPtr memory_db(const char* schema) {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open(":memory:", &raw), SQLITE_OK);
  sqlite::DbPtr db(raw);
  EXPECT_TRUE(sqlite::Exec(db.get(), schema).ok());
  return db;
}

TEST(CheckTableColumns, AcceptsTheSameColumnsInAnyOrder) {
  auto db = memory_db("CREATE TABLE t (a INTEGER, b TEXT)");
  EXPECT_TRUE(check_table_columns(db.get(), "t", {"b", "a"}).ok());
}

TEST(CheckTableColumns, NamesAColumnMissingFromTheTable) {
  auto db = memory_db("CREATE TABLE t (a INTEGER, b TEXT)");
  const Status st = check_table_columns(db.get(), "t", {"a", "b", "c"});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("missing columns: c"), std::string::npos) << st.message();
}

TEST(CheckTableColumns, NamesAColumnTheDescriptionLacks) {
  auto db = memory_db("CREATE TABLE t (a INTEGER, b TEXT, z TEXT)");
  const Status st = check_table_columns(db.get(), "t", {"a", "b"});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("columns berth does not know: z"), std::string::npos) << st.message();
}

TEST(CheckTableColumns, FailsForATableThatIsNotThere) {
  auto db = memory_db("CREATE TABLE t (a INTEGER)");
  EXPECT_FALSE(check_table_columns(db.get(), "nope", {"a"}).ok());
}

core::Job every_field_set() {
  core::Job j;
  j.id = JobId(7);
  j.name = "train";
  j.user = "ada";
  j.project = ProjectId(3);
  j.org = OrgId(2);
  j.state = core::JobState::kRunning;
  j.reason = core::PendingReason::kNone;
  j.tier = core::Tier::kNormal;
  j.gpus = 4;
  j.gpu_model = "H100";
  j.partition = "gpu";
  j.time_limit_s = 3600;
  j.requeue = true;
  j.restarts = 2;
  j.submit_ms = 10;
  j.start_ms = 20;
  j.end_ms = 30;
  j.node = NodeId(4);
  j.gpu_ids = {0, 1, 2, 3};
  j.exit_code = 1;
  j.term_signal = 9;
  j.cancel_requested = true;
  j.award = AwardId(5);
  j.rate_bps = 5000;
  j.price_per_gpu_hour_minor = 300000;
  j.max_cost_minor = 1200000;
  j.subsidy_held_minor = 600000;
  j.copay_held_minor = 600000;
  j.cost_minor = 100;
  j.subsidy_minor = 50;
  j.copay_minor = 50;
  j.launch = R"({"cmd":["run"]})";
  j.held = true;
  j.array_id = JobId(6);
  j.array_index = 1;
  j.array_throttle = 2;
  j.nodes = 2;
  j.more_nodes = {core::Placement{NodeId(8), {0, 1, 2, 3}}};
  j.estimate_s = 600;
  j.refunded_minor = 10;
  j.ran_ms = 40;
  j.end_reason = "done";
  j.node_choice.required = {NodeId(4), NodeId(8)};
  j.node_choice.excluded = {NodeId(9)};
  return j;
}

TEST(JobColumns, NamesAreUnique) {
  const auto names = column_names(job_columns());
  EXPECT_EQ(std::set<std::string_view>(names.begin(), names.end()).size(), names.size());
  EXPECT_EQ(names.front(), "id");
}

TEST(JobColumns, EveryValueReadsBackAsItWasWritten) {
  const core::Job written = every_field_set();
  core::Job read;
  core::JobRowProblem problem;
  for (const JobColumn& c : job_columns()) c.set(read, c.get(written), problem);
  EXPECT_TRUE(problem.what.empty()) << problem.what;
  for (const JobColumn& c : job_columns()) {
    EXPECT_EQ(c.get(read).integer, c.get(written).integer) << c.name;
    EXPECT_EQ(c.get(read).text, c.get(written).text) << c.name;
  }
  EXPECT_EQ(read.gpu_ids, written.gpu_ids);
  EXPECT_EQ(read.node_choice.required, written.node_choice.required);
  EXPECT_EQ(read.more_nodes.size(), 1u);
}

TEST(JobColumns, AnUnknownStateReadsAsFailedAndIsReported) {
  for (const JobColumn& c : job_columns()) {
    if (std::string_view(c.name) != "state") continue;
    core::Job j;
    core::JobRowProblem problem;
    c.set(j, ColumnValue{0, "SLEEPING"}, problem);
    EXPECT_EQ(j.state, core::JobState::kFailed);
    EXPECT_TRUE(problem.state_unknown);
    EXPECT_EQ(problem.what, "unknown state 'SLEEPING'");
    return;
  }
  FAIL() << "no state column";
}

TEST(JobColumns, AListThatDoesNotParseReadsEmptyAndIsReportedByItsColumn) {
  const struct {
    const char* column;
    const char* text;
  } cases[] = {{"gpu_ids", "0,x"},
               {"dependencies", "before:1"},
               {"more_nodes", "4:a"},
               {"required_nodes", "5,3"},
               {"excluded_nodes", "x"}};
  for (const auto& c : cases) {
    for (const JobColumn& column : job_columns()) {
      if (std::string_view(column.name) != c.column) continue;
      core::Job j = every_field_set();
      core::JobRowProblem problem;
      column.set(j, ColumnValue{0, c.text}, problem);
      EXPECT_EQ(problem.what, "unreadable " + std::string(c.column) + " '" + c.text + "'");
      EXPECT_EQ(column.get(j).text, "") << c.column;
    }
  }
}

TEST(NodeColumns, AnUnknownStateIsReportedForTheLoadToFail) {
  for (const NodeColumn& c : node_columns()) {
    if (std::string_view(c.name) != "state") continue;
    core::Node n;
    FirstUnreadable unreadable;
    c.set(n, ColumnValue{0, "drain"}, unreadable);
    EXPECT_EQ(n.state, core::NodeState::kDrain);
    EXPECT_EQ(unreadable.column, nullptr);
    c.set(n, ColumnValue{0, "melted"}, unreadable);
    ASSERT_NE(unreadable.column, nullptr);
    EXPECT_EQ(unreadable.text, "melted");
    return;
  }
  FAIL() << "no state column";
}

// Every column of `columns` read back from `written` gives the value written, and no value was
// reported unreadable. With each field of `written` set to a value of its own, a getter and a
// setter of different fields show as a difference.
template <typename Row>
Row read_back(const std::vector<Column<Row, FirstUnreadable>>& columns, const Row& written) {
  Row read;
  FirstUnreadable unreadable;
  for (const auto& c : columns) c.set(read, c.get(written), unreadable);
  EXPECT_EQ(unreadable.column, nullptr) << unreadable.column << " '" << unreadable.text << "'";
  for (const auto& c : columns) {
    EXPECT_EQ(c.get(read).integer, c.get(written).integer) << c.name;
    EXPECT_EQ(c.get(read).text, c.get(written).text) << c.name;
    EXPECT_EQ(c.get(read).null, c.get(written).null) << c.name;
  }
  return read;
}

// The column named `name` of `columns`; fails the test when there is none.
template <typename Row>
const Column<Row, FirstUnreadable>& column_named(
    const std::vector<Column<Row, FirstUnreadable>>& columns, std::string_view name) {
  for (const auto& c : columns) {
    if (c.name == name) return c;
  }
  ADD_FAILURE() << "no column " << name;
  return columns.front();
}

// The names of a description are unique, and the first is the row's key, which the store's
// messages name ("account 3: ...").
template <typename Row, typename Problems>
void expect_names(const std::vector<Column<Row, Problems>>& columns, std::string_view key) {
  const auto names = column_names(columns);
  EXPECT_EQ(std::set<std::string_view>(names.begin(), names.end()).size(), names.size()) << key;
  EXPECT_EQ(names.front(), key);
}

TEST(TableColumns, NamesAreUniqueAndTheKeyComesFirst) {
  expect_names(account_columns(), "id");
  expect_names(transfer_columns(), "id");
  expect_names(topup_columns(), "transfer_id");
  expect_names(audit_columns(), "seq");
  expect_names(org_columns(), "id");
  expect_names(project_columns(), "id");
  expect_names(scheme_columns(), "id");
  expect_names(criterion_columns(), "scheme_id");
  expect_names(award_columns(), "id");
  expect_names(funding_order_columns(), "project_id");
  expect_names(application_columns(), "id");
  expect_names(review_columns(), "application_id");
  expect_names(application_event_columns(), "seq");
  expect_names(report_columns(), "award_id");
  expect_names(report_event_columns(), "seq");
}

TEST(LedgerColumns, AnAccountReadsBackAsItWasWritten) {
  core::Account a;
  a.id = AccountId(7);
  a.kind = core::AccountKind::kRevenue;
  a.no_overdraft = false;
  a.credit_limit_minor = 11;
  a.owner = 3;
  a.name = "revenue";
  a.debits_pending = 1;
  a.debits_posted = 2;
  a.credits_pending = 4;
  a.credits_posted = 8;
  a.created_ms = 16;
  const core::Account b = read_back(account_columns(), a);
  EXPECT_EQ(b.kind, core::AccountKind::kRevenue);
  EXPECT_FALSE(b.no_overdraft);
  EXPECT_EQ(b.credits_posted, 8);
}

TEST(LedgerColumns, AHoldIsWrittenPendingAndATransferThatIsNoHoldWithoutAState) {
  core::Transfer t;
  t.id = TransferId(9);
  t.debit = AccountId(1);
  t.credit = AccountId(2);
  t.amount = 500;
  t.flags = core::kPending | core::kLinked;
  t.pending_id = TransferId(3);
  t.timeout_ms = 60;
  t.code = 2;
  t.ref = 44;
  t.timestamp_ms = 70;
  const TransferRow hold = read_back(transfer_columns(), new_transfer_row(t));
  EXPECT_TRUE(hold.transfer.same_fields(t));
  EXPECT_EQ(hold.transfer.timestamp_ms, 70);
  EXPECT_TRUE(hold.hold);
  EXPECT_EQ(hold.pending_state, core::PendingState::kPending);
  EXPECT_EQ(column_named(transfer_columns(), "flags_text").get(hold).text, "pending,linked");
  EXPECT_EQ(column_named(transfer_columns(), "pending_state").get(hold).text, "pending");

  t.flags = 0;
  const TransferRow plain = read_back(transfer_columns(), new_transfer_row(t));
  EXPECT_FALSE(plain.hold);
  EXPECT_TRUE(column_named(transfer_columns(), "pending_state").get(plain).null);
}

TEST(LedgerColumns, AHoldStateThisBerthDoesNotKnowIsReported) {
  const TransferColumn& state = column_named(transfer_columns(), "pending_state");
  TransferRow row;
  FirstUnreadable unreadable;
  state.set(row, ColumnValue{0, "posted"}, unreadable);
  EXPECT_TRUE(row.hold);
  EXPECT_EQ(row.pending_state, core::PendingState::kPosted);
  EXPECT_EQ(unreadable.column, nullptr);
  state.set(row, ColumnValue{0, "lost"}, unreadable);
  ASSERT_NE(unreadable.column, nullptr);
  EXPECT_STREQ(unreadable.column, "pending_state");
  EXPECT_EQ(unreadable.text, "lost");
}

TEST(LedgerColumns, ATopUpAndAnAuditRecordReadBackAsWritten) {
  const core::TopUp t{TransferId(5), ProjectId(2), 300, "pay-1", 40};
  const core::TopUp u = read_back(topup_columns(), t);
  EXPECT_EQ(u.reference, "pay-1");
  EXPECT_EQ(u.amount_minor, 300);
  const core::AuditRecord r{3,     10,     "ada", "award.grant", "award 2", 500, TransferId(8),
                            "why", "ref-1"};
  EXPECT_EQ(read_back(audit_columns(), r), r);
}

TEST(FundingColumns, AnOrgWithItsRegistrationReadsBackAsItWasWritten) {
  core::Org o;
  o.id = OrgId(4);
  o.name = "hku";
  o.kind = core::OrgKind::kInstitute;
  o.created_ms = 5;
  o.registration = {"BR-1", "1 Pokfulam Road", "Ada", "ada@example.org", "HK"};
  o.updated_ms = 6;
  const core::Org r = read_back(org_columns(), o);
  EXPECT_EQ(r.kind, core::OrgKind::kInstitute);
  EXPECT_EQ(r.registration, o.registration);
  EXPECT_EQ(r.updated_ms, 6);
}

TEST(FundingColumns, AnUnknownOrgKindIsReportedForTheLoadToFail) {
  core::Org o;
  FirstUnreadable unreadable;
  column_named(org_columns(), "kind").set(o, ColumnValue{0, "guild"}, unreadable);
  ASSERT_NE(unreadable.column, nullptr);
  EXPECT_STREQ(unreadable.column, "kind");
  EXPECT_EQ(unreadable.text, "guild");
}

TEST(FundingColumns, ASchemeReadsBackWithItsRulesAndItsKindsWrittenForPeople) {
  core::Scheme x;
  x.id = SchemeId(2);
  x.name = "ai";
  x.rate_bps = 7000;
  x.eligible_kinds = 1u << static_cast<int>(core::OrgKind::kUniversity);
  x.shortfall = core::Shortfall::kWait;
  x.fund = AccountId(9);
  x.created_ms = 3;
  x.exceptional_rate_bps = 9000;
  x.cap_per_project_minor = 100;
  x.window_open_ms = 10;
  x.window_close_ms = 20;
  x.award_validity_days = 30;
  const core::Scheme r = read_back(scheme_columns(), x);
  EXPECT_EQ(r.shortfall, core::Shortfall::kWait);
  EXPECT_EQ(r.eligible_kinds, x.eligible_kinds);
  EXPECT_EQ(r.award_validity_days, 30);
  EXPECT_EQ(column_named(scheme_columns(), "eligible_kinds_text").get(x).text, "university");
}

TEST(FundingColumns, AnAwardAndTheRowsSchemesAndProjectsOwnReadBack) {
  core::Award a;
  a.id = AwardId(3);
  a.scheme = SchemeId(2);
  a.project = ProjectId(5);
  a.account = AccountId(7);
  a.amount_minor = 1000;
  a.gpu_level = 8;
  a.start_ms = 1;
  a.end_ms = 2;
  a.created_ms = 4;
  a.rate_bps = 6000;
  a.application = ApplicationId(6);
  a.closed_ms = 9;
  a.returned_ms = 10;
  a.returned_minor = 11;
  a.report_every_months = 3;
  a.report_grace_days = 12;
  const core::Award b = read_back(award_columns(), a);
  EXPECT_EQ(b.application, ApplicationId(6));
  EXPECT_EQ(b.report_grace_days, 12);
  EXPECT_EQ(column_named(award_columns(), "application_id").type, ColumnType::kIdOrNull);

  const core::Project p{ProjectId(5), OrgId(4), "vision", AccountId(8), 13};
  EXPECT_EQ(read_back(project_columns(), p).wallet, AccountId(8));
  const CriterionRow c{SchemeId(2), 1, core::Criterion{"impact", 4000}};
  EXPECT_EQ(read_back(criterion_columns(), c).criterion, c.criterion);
  const FundingOrderRow f{ProjectId(5), 2, AwardId(3)};
  EXPECT_EQ(read_back(funding_order_columns(), f).award, AwardId(3));
}

TEST(ApplicationColumns, AnApplicationWithItsTermsReadsBackWithoutItsReviews) {
  core::Application a;
  a.id = ApplicationId(1);
  a.scheme = SchemeId(2);
  a.project = ProjectId(3);
  a.org = OrgId(4);
  a.terms = {500, 8, "H100", 90, "why", "what"};
  a.state = core::ApplicationState::kApproved;
  a.created_ms = 5;
  a.created_by = "ada";
  a.updated_ms = 6;
  a.submitted_ms = 7;
  a.submitted_by = "bob";
  a.decided_ms = 8;
  a.decided_by = "cy";
  a.weighted_score_e4 = 9;
  a.approved_minor = 10;
  a.approved_gpu_level = 11;
  a.approved_duration_days = 12;
  a.approved_rate_bps = 13;
  a.rejection_reason = "no";
  a.withdrawal_note = "gone";
  a.award = AwardId(14);
  EXPECT_EQ(read_back(application_columns(), a), a);
}

TEST(ApplicationColumns, AReviewReadsBackAndUnreadableScoresAreReported) {
  const ReviewRow r{ApplicationId(3), 1, core::Review{"rev", {80, 70}, 7500, "good", 9}};
  EXPECT_EQ(read_back(review_columns(), r).review, r.review);
  ReviewRow bad;
  FirstUnreadable unreadable;
  column_named(review_columns(), "scores").set(bad, ColumnValue{0, "80,x"}, unreadable);
  ASSERT_NE(unreadable.column, nullptr);
  EXPECT_STREQ(unreadable.column, "scores");
}

TEST(ApplicationColumns, EventsAndReportsReadBackAsWritten) {
  const core::ApplicationEvent e{
      4,         ApplicationId(0), SchemeId(2), 5, "ada", core::ApplicationAction::kCriteriaSet,
      "criteria"};
  EXPECT_EQ(read_back(application_event_columns(), e), e);
  EXPECT_EQ(read_back(application_event_columns(),
                      core::ApplicationEvent{5, ApplicationId(1), SchemeId(2), 6, "bob",
                                             core::ApplicationAction::kAwarded, ""})
                .action,
            core::ApplicationAction::kAwarded);
  core::ProgressReport p;
  p.award = AwardId(3);
  p.period = 2;
  p.due_ms = 4;
  p.state = core::ReportState::kReturned;
  p.text = "done";
  p.submitted_ms = 5;
  p.submitted_by = "ada";
  p.decided_ms = 6;
  p.decided_by = "bob";
  p.return_reason = "more";
  p.submissions = 2;
  EXPECT_EQ(read_back(report_columns(), p), p);
  const core::ReportEvent r{7, AwardId(3), 2, 8, "bob", core::ReportAction::kReturned, "more"};
  EXPECT_EQ(read_back(report_event_columns(), r), r);
}

}  // namespace
}  // namespace berth::store
