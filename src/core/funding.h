// Funding: organisations, their projects, schemes and awards, with the rules that
// govern them (unique names, eligibility, validity dates). Money moves in the ledger;
// the Engine ties the two together.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "core/model.h"

namespace berth::core {

class Funding {
 public:
  // Adders check the entity's own fields and name uniqueness; ids are assigned by the caller
  // and must be the next in sequence (1, 2, ...), which keeps lookups O(1).
  Status add_org(const Org& org);
  Status add_project(const Project& project);
  Status add_scheme(const Scheme& scheme);
  Status add_award(const Award& award);
  // The same checks without adding, so a caller can check before it moves money.
  Status check_org(const Org& org) const;
  Status check_project(const Project& project) const;
  Status check_scheme(const Scheme& scheme) const;
  Status check_award(const Award& award) const;

  const Org* org(OrgId id) const;
  const Org* org_by_name(const std::string& name) const;
  const Project* project(ProjectId id) const;
  const Project* project_by_name(const std::string& name) const;
  const Scheme* scheme(SchemeId id) const;
  const Scheme* scheme_by_name(const std::string& name) const;
  const Award* award(AwardId id) const;
  // For the Engine's changes to an award (supplements, closure, return); nullptr when none.
  Award* mutable_award(AwardId id);
  // For the Engine's amendments of an organisation's registration record; nullptr when none.
  Org* mutable_org(OrgId id);

  const std::vector<Org>& orgs() const { return orgs_; }
  const std::vector<Project>& projects() const { return projects_; }
  const std::vector<Scheme>& schemes() const { return schemes_; }
  const std::vector<Award>& awards() const { return awards_; }
  const std::vector<AwardId>& awards_of(ProjectId project) const;

  // A project's funding sources (its awards, from any scheme: a government scheme, a partner's
  // credit line or voucher) in the order they pay: the awards named by set_funding_order first,
  // in that order, then the others in the order granted.
  std::vector<const Award*> funding_sources(ProjectId project) const;
  // Those valid at now_ms, in the same order.
  std::vector<const Award*> active_sources(ProjectId project, int64_t now_ms) const;
  // States the order a project's sources pay in: distinct awards of the project; the project's
  // awards not named follow in the order granted. An empty list returns to that default.
  Status check_funding_order(ProjectId project, const std::vector<AwardId>& order) const;
  Status set_funding_order(ProjectId project, const std::vector<AwardId>& order);
  const std::vector<AwardId>& funding_order(ProjectId project) const;  // as stated; empty: default
  const std::unordered_map<uint64_t, std::vector<AwardId>>& funding_orders() const {
    return funding_order_;
  }

 private:
  std::vector<Org> orgs_;
  std::vector<Project> projects_;
  std::vector<Scheme> schemes_;
  std::vector<Award> awards_;
  std::unordered_map<std::string, OrgId> org_names_;
  std::unordered_map<std::string, ProjectId> project_names_;
  std::unordered_map<std::string, SchemeId> scheme_names_;
  std::unordered_map<uint64_t, std::vector<AwardId>> project_awards_;
  std::unordered_map<uint64_t, std::vector<AwardId>> funding_order_;  // project -> stated order
};

// Names of orgs, projects, schemes: 1..64 characters of [A-Za-z0-9._-], starting with a
// letter or digit (so they never look like a number's sign or an option).
Status validate_name(const std::string& what, const std::string& name);

// Checks a registration record as stored: each recorded field trimmed, within its limit,
// without control characters, and a plausible contact email. Errors name the field as the
// API does (registration_number, address, contact_name, contact_email, jurisdiction).
Status check_registration(const OrgRegistration& record);
// Applies the fields `change` gives to `record`, each trimmed; a given field that is empty
// once trimmed is Invalid. On error `record` is unchanged.
Status apply_registration(const RegistrationChange& change, OrgRegistration* record);

}  // namespace berth::core
