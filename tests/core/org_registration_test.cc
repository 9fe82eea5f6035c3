// Organisations' registration records: created with the fields given, amended by an admin,
// each change audited; bad fields are refused naming the field, and a refusal changes nothing.
#include <gtest/gtest.h>

#include "core/engine.h"
#include "core/one_node.h"

namespace berth::core {
namespace {

constexpr int64_t kT0 = 1'800'000'000'000;

RegistrationChange full_record() {
  RegistrationChange r;
  r.number = "  71234567-000 ";
  r.address = "Unit 5, 1 Science Park West Avenue, Sha Tin, Hong Kong";
  r.contact_name = "Ann Lee";
  r.contact_email = " ann.lee@acme.com.hk\t";
  r.jurisdiction = "Hong Kong";
  return r;
}

class OrgRegistrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = Engine::Create(one_node(), kT0);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine = std::move(*e);
  }
  // Everything a refused command must leave as it was.
  struct Seen {
    size_t orgs = 0, audit = 0;
    std::vector<OrgRegistration> records;
    bool operator==(const Seen&) const = default;
  };
  Seen seen() const {
    Seen s{engine->funding().orgs().size(), engine->audit().size(), {}};
    for (const Org& o : engine->funding().orgs()) s.records.push_back(o.registration);
    return s;
  }

  std::unique_ptr<Engine> engine;
};

TEST_F(OrgRegistrationTest, CreateTrimsAndRecordsTheFieldsGivenAndAuditsThem) {
  auto org = engine->create_org("acme", OrgKind::kStartup, full_record(), kT0);
  ASSERT_TRUE(org.ok()) << org.status().ToString();
  const OrgRegistration& r = engine->funding().org(org->id)->registration;
  EXPECT_EQ(r.number, "71234567-000");
  EXPECT_EQ(r.contact_email, "ann.lee@acme.com.hk");
  EXPECT_EQ(r.jurisdiction, "Hong Kong");
  EXPECT_EQ(engine->funding().org(org->id)->updated_ms, 0);
  const AuditRecord& last = engine->audit().back();
  EXPECT_EQ(last.action, "org.create");
  EXPECT_EQ(last.subject, "org 1");
  EXPECT_NE(last.note.find("registration_number (none) -> '71234567-000'"), std::string::npos)
      << last.note;

  // Without a record: every field is not recorded.
  auto bare = engine->create_org("hku", OrgKind::kUniversity, kT0);
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->registration, OrgRegistration{});
  EXPECT_NE(engine->audit().back().note.find("no registration record"), std::string::npos);
}

TEST_F(OrgRegistrationTest, BadFieldsAreRefusedNamingTheFieldAndChangeNothing) {
  ASSERT_TRUE(engine->create_org("hku", OrgKind::kUniversity, full_record(), kT0).ok());
  const Seen before = seen();
  auto refused = [&](RegistrationChange change, const std::string& field) {
    auto r = engine->create_org("acme", OrgKind::kStartup, change, kT0);
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << field;
    EXPECT_NE(r.status().message().find("'" + field + "'"), std::string::npos)
        << r.status().ToString();
    EXPECT_EQ(seen(), before) << field;
  };
  for (const char* email :
       {"ann.acme.hk", "ann@@acme.hk", "a@b@acme.hk", "@acme.hk", "ann@", "ann@acme",
        "ann lee@acme.hk", "ann@.acme.hk", "ann@acme.hk.", "ann@acme..hk"}) {
    RegistrationChange c;
    c.contact_email = email;
    refused(c, "contact_email");
  }
  RegistrationChange blank;
  blank.number = "   ";
  refused(blank, "registration_number");
  RegistrationChange empty;
  empty.jurisdiction = "";
  refused(empty, "jurisdiction");
  RegistrationChange long_address;
  long_address.address = std::string(kMaxAddressBytes + 1, 'a');
  refused(long_address, "address");
  RegistrationChange long_name;
  long_name.contact_name = std::string(kMaxContactNameBytes + 1, 'n');
  refused(long_name, "contact_name");
  RegistrationChange long_number;
  long_number.number = std::string(kMaxRegistrationNumberBytes + 1, '7');
  refused(long_number, "registration_number");
  RegistrationChange broken_line;
  broken_line.address = "1 Main St\nHong Kong";
  refused(broken_line, "address");
  // At the limit is fine.
  RegistrationChange at_limit;
  at_limit.address = std::string(kMaxAddressBytes, 'a');
  EXPECT_TRUE(engine->create_org("acme", OrgKind::kStartup, at_limit, kT0).ok());
}

TEST_F(OrgRegistrationTest, UpdateReplacesOnlyTheGivenFieldsAndIsAuditedAndPersisted) {
  const OrgId id = engine->create_org("acme", OrgKind::kStartup, full_record(), kT0)->id;
  engine->drain_changes();
  engine->set_actor("root");
  RegistrationChange change;
  change.contact_email = "bo.chan@acme.com.hk";
  change.contact_name = " Bo Chan ";
  auto updated = engine->update_org(id, change, "new finance lead", kT0 + 5);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->registration.contact_email, "bo.chan@acme.com.hk");
  EXPECT_EQ(updated->registration.contact_name, "Bo Chan");
  EXPECT_EQ(updated->registration.number, "71234567-000");  // kept
  EXPECT_EQ(updated->updated_ms, kT0 + 5);
  const AuditRecord& last = engine->audit().back();
  EXPECT_EQ(last.action, "org.update");
  EXPECT_EQ(last.user, "root");
  EXPECT_EQ(last.note,
            "contact_name 'Ann Lee' -> 'Bo Chan'; contact_email 'ann.lee@acme.com.hk' -> "
            "'bo.chan@acme.com.hk': "
            "new finance lead");
  // The amended organisation is in the next changes, to be upserted.
  const ChangeSet changes = engine->drain_changes();
  ASSERT_EQ(changes.orgs.size(), 1u);
  EXPECT_EQ(changes.orgs[0].registration, updated->registration);
  ASSERT_EQ(changes.audit.size(), 1u);

  // The same amendment again changes nothing and records nothing: a retry is harmless.
  const size_t audit = engine->audit().size();
  ASSERT_TRUE(engine->update_org(id, change, "again", kT0 + 9).ok());
  EXPECT_EQ(engine->audit().size(), audit);
  EXPECT_EQ(engine->funding().org(id)->updated_ms, kT0 + 5);
  EXPECT_TRUE(engine->drain_changes().orgs.empty());
}

TEST_F(OrgRegistrationTest, RefusedUpdatesChangeNothing) {
  const OrgId id = engine->create_org("acme", OrgKind::kStartup, full_record(), kT0)->id;
  engine->drain_changes();
  const Seen before = seen();
  RegistrationChange bad;
  bad.contact_name = "Bo Chan";  // good, but with a bad email the whole update is refused
  bad.contact_email = "bo chan@acme.hk";
  auto r = engine->update_org(id, bad, "", kT0);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("'contact_email'"), std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(engine->update_org(id, RegistrationChange{}, "", kT0).status().code(),
            Code::kInvalidArgument);
  RegistrationChange fine;
  fine.jurisdiction = "Hong Kong SAR";
  EXPECT_EQ(engine->update_org(OrgId(9), fine, "", kT0).status().code(), Code::kNotFound);
  EXPECT_EQ(engine->update_org(id, fine, std::string(2001, 'x'), kT0).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(seen(), before);
  EXPECT_EQ(engine->funding().org(id)->updated_ms, 0);
  EXPECT_TRUE(engine->drain_changes().empty());
}

TEST_F(OrgRegistrationTest, RestoreKeepsTheRecordAndRefusesABadOne) {
  const OrgId id = engine->create_org("acme", OrgKind::kStartup, full_record(), kT0)->id;
  RegistrationChange change;
  change.jurisdiction = "Hong Kong SAR";
  ASSERT_TRUE(engine->update_org(id, change, "", kT0 + 1).ok());
  ChangeSet rows = engine->snapshot();
  auto restored = Engine::Restore(one_node(), rows);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->funding().org(id)->registration, engine->funding().org(id)->registration);
  EXPECT_EQ((*restored)->funding().org(id)->updated_ms, kT0 + 1);

  rows.orgs[0].registration.contact_email = "not an email";
  auto bad = Engine::Restore(one_node(), rows);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("contact_email"), std::string::npos)
      << bad.status().ToString();
}

}  // namespace
}  // namespace berth::core
