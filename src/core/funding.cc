#include "core/funding.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "common/strings.h"
#include "core/progress.h"

namespace berth::core {

Status validate_name(const std::string& what, const std::string& name) {
  if (name.empty() || name.size() > 64)
    return Status::Invalid(what + " name must be 1 to 64 characters");
  if (!std::isalnum(static_cast<unsigned char>(name[0])))
    return Status::Invalid(what + " name '" + name + "' must start with a letter or digit");
  bool all_digits = true;
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (!std::isalnum(c) && ch != '.' && ch != '_' && ch != '-')
      return Status::Invalid(what + " name '" + name +
                             "' may only hold letters, digits, '.', '_' and '-'");
    if (!std::isdigit(c)) all_digits = false;
  }
  if (all_digits)
    return Status::Invalid(what + " name '" + name + "' must not be a number (numbers are ids)");
  return Status::Ok();
}

namespace {

// The registration record's fields, by the names the API gives them.
struct RegistrationField {
  const char* name;
  size_t max_bytes;
  std::string OrgRegistration::*in_record;
  std::optional<std::string> RegistrationChange::*in_change;
  bool email = false;
};
constexpr RegistrationField kRegistrationFields[] = {
    {"registration_number", kMaxRegistrationNumberBytes, &OrgRegistration::number,
     &RegistrationChange::number},
    {"address", kMaxAddressBytes, &OrgRegistration::address, &RegistrationChange::address},
    {"contact_name", kMaxContactNameBytes, &OrgRegistration::contact_name,
     &RegistrationChange::contact_name},
    {"contact_email", kMaxContactEmailBytes, &OrgRegistration::contact_email,
     &RegistrationChange::contact_email, true},
    {"jurisdiction", kMaxJurisdictionBytes, &OrgRegistration::jurisdiction,
     &RegistrationChange::jurisdiction},
};

bool is_space(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

// One '@' with text on both sides, a domain with a '.' inside it (not at either end, not two
// in a row), and no spaces. Plausible, not proof that mail arrives.
bool plausible_email(const std::string& email) {
  const size_t at = email.find('@');
  if (at == std::string::npos || at == 0 || email.find('@', at + 1) != std::string::npos)
    return false;
  const std::string domain = email.substr(at + 1);
  if (domain.empty() || domain.front() == '.' || domain.back() == '.' ||
      domain.find('.') == std::string::npos || domain.find("..") != std::string::npos)
    return false;
  return std::none_of(email.begin(), email.end(), is_space);
}

Status check_registration_field(const RegistrationField& f, const std::string& value) {
  const std::string field = std::string("field '") + f.name + "'";
  if (value.size() > f.max_bytes)
    return Status::Invalid(field + " must be at most " + std::to_string(f.max_bytes) +
                           " bytes, got " + std::to_string(value.size()));
  if (value != trim(value, kAsciiWhitespace))
    return Status::Invalid(field + " must not begin or end with spaces");
  for (char ch : value)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
      return Status::Invalid(field + " must not hold control characters (tabs, line breaks)");
  if (f.email && !value.empty() && !plausible_email(value))
    return Status::Invalid(field + " '" + value +
                           "' is not an email address like name@example.org");
  return Status::Ok();
}

template <typename T, typename IdT>
const T* by_id(const std::vector<T>& items, IdT id) {
  if (id.value == 0 || id.value > items.size()) return nullptr;
  return &items[id.value - 1];
}
template <typename T, typename IdT>
const T* by_name(const std::vector<T>& items, const std::unordered_map<std::string, IdT>& names,
                 const std::string& name) {
  auto it = names.find(name);
  return it == names.end() ? nullptr : by_id(items, it->second);
}
template <typename T>
Status next_in_sequence(const std::vector<T>& items, uint64_t id, const char* what) {
  if (id != items.size() + 1)
    return Status::Internal(std::string(what) + " id " + std::to_string(id) +
                            " is out of sequence");
  return Status::Ok();
}
}  // namespace

Status check_registration(const OrgRegistration& record) {
  for (const RegistrationField& f : kRegistrationFields)
    BERTH_RETURN_IF_ERROR(check_registration_field(f, record.*f.in_record));
  return Status::Ok();
}

Status apply_registration(const RegistrationChange& change, OrgRegistration* record) {
  OrgRegistration out = *record;
  for (const RegistrationField& f : kRegistrationFields) {
    const std::optional<std::string>& given = change.*f.in_change;
    if (!given) continue;
    std::string value(trim(*given, kAsciiWhitespace));
    if (value.empty())
      return Status::Invalid(std::string("field '") + f.name + "' must not be empty");
    BERTH_RETURN_IF_ERROR(check_registration_field(f, value));
    out.*f.in_record = std::move(value);
  }
  *record = std::move(out);
  return Status::Ok();
}

Status Funding::check_org(const Org& org) const {
  BERTH_RETURN_IF_ERROR(validate_name("organisation", org.name));
  BERTH_RETURN_IF_ERROR(check_registration(org.registration));
  if (org_names_.count(org.name))
    return Status::Conflict("organisation '" + org.name + "' already exists");
  return Status::Ok();
}

Status Funding::add_org(const Org& org) {
  BERTH_RETURN_IF_ERROR(check_org(org));
  BERTH_RETURN_IF_ERROR(next_in_sequence(orgs_, org.id.value, "organisation"));
  orgs_.push_back(org);
  org_names_[org.name] = org.id;
  return Status::Ok();
}

Status Funding::check_project(const Project& project) const {
  BERTH_RETURN_IF_ERROR(validate_name("project", project.name));
  if (project_names_.count(project.name))
    return Status::Conflict("project '" + project.name + "' already exists");
  if (!org(project.org))
    return Status::NotFound("organisation " + std::to_string(project.org.value) + " not found");
  return Status::Ok();
}

Status Funding::add_project(const Project& project) {
  BERTH_RETURN_IF_ERROR(check_project(project));
  BERTH_RETURN_IF_ERROR(next_in_sequence(projects_, project.id.value, "project"));
  projects_.push_back(project);
  project_names_[project.name] = project.id;
  return Status::Ok();
}

Status Funding::check_scheme(const Scheme& scheme) const {
  BERTH_RETURN_IF_ERROR(validate_name("scheme", scheme.name));
  if (scheme_names_.count(scheme.name))
    return Status::Conflict("scheme '" + scheme.name + "' already exists");
  if (scheme.rate_bps < 0 || scheme.rate_bps > 10'000)
    return Status::Invalid("subsidy rate must be 0 to 10000 basis points, got " +
                           std::to_string(scheme.rate_bps));
  if (scheme.eligible_kinds == 0)
    return Status::Invalid("scheme '" + scheme.name + "' has no eligible organisation kinds");
  if (scheme.exceptional_rate_bps != 0 &&
      (scheme.exceptional_rate_bps <= scheme.rate_bps || scheme.exceptional_rate_bps > 10'000))
    return Status::Invalid(
        "exceptional rate must be above the subsidy rate (" + std::to_string(scheme.rate_bps) +
        " bps) and at most 10000 basis points, got " + std::to_string(scheme.exceptional_rate_bps));
  if (scheme.cap_per_project_minor < 0)
    return Status::Invalid("cap per project must not be negative");
  if (scheme.window_open_ms < 0 || scheme.window_close_ms < 0)
    return Status::Invalid("application window dates must not be before 1970");
  if (scheme.window_close_ms != 0 && scheme.window_close_ms <= scheme.window_open_ms)
    return Status::Invalid("application window must close after it opens");
  if (scheme.award_validity_days < 0 || scheme.award_validity_days > 3650)
    return Status::Invalid("award validity must be 0 (as asked) to 3650 days, got " +
                           std::to_string(scheme.award_validity_days));
  return Status::Ok();
}

Status Funding::add_scheme(const Scheme& scheme) {
  BERTH_RETURN_IF_ERROR(check_scheme(scheme));
  BERTH_RETURN_IF_ERROR(next_in_sequence(schemes_, scheme.id.value, "scheme"));
  schemes_.push_back(scheme);
  scheme_names_[scheme.name] = scheme.id;
  return Status::Ok();
}

Status Funding::check_award(const Award& award) const {
  const Scheme* s = scheme(award.scheme);
  if (!s) return Status::NotFound("scheme " + std::to_string(award.scheme.value) + " not found");
  const Project* p = project(award.project);
  if (!p) return Status::NotFound("project " + std::to_string(award.project.value) + " not found");
  const Org* o = org(p->org);
  if (!s->eligible(o->kind))
    return Status::Denied("organisation '" + o->name + "' (" + org_kind_name(o->kind) +
                          ") is not eligible for scheme '" + s->name + "'");
  if (award.amount_minor <= 0) return Status::Invalid("award amount must be positive");
  if (award.gpu_level <= 0) return Status::Invalid("award GPU level must be at least 1");
  if (award.end_ms <= award.start_ms)
    return Status::Invalid("award end date must be after its start date");
  BERTH_RETURN_IF_ERROR(check_report_rule(award.report_every_months, award.report_grace_days));
  if (award.rate_bps != s->rate_bps &&
      (s->exceptional_rate_bps == 0 || award.rate_bps != s->exceptional_rate_bps))
    return Status::Invalid("award rate " + std::to_string(award.rate_bps) +
                           " bps is neither scheme '" + s->name +
                           "''s rate nor its exceptional rate");
  return Status::Ok();
}

Status Funding::add_award(const Award& award) {
  BERTH_RETURN_IF_ERROR(check_award(award));
  BERTH_RETURN_IF_ERROR(next_in_sequence(awards_, award.id.value, "award"));
  awards_.push_back(award);
  project_awards_[award.project.value].push_back(award.id);
  return Status::Ok();
}

const Org* Funding::org(OrgId id) const { return by_id(orgs_, id); }
const Org* Funding::org_by_name(const std::string& n) const {
  return by_name(orgs_, org_names_, n);
}
const Project* Funding::project(ProjectId id) const { return by_id(projects_, id); }
const Project* Funding::project_by_name(const std::string& n) const {
  return by_name(projects_, project_names_, n);
}
const Scheme* Funding::scheme(SchemeId id) const { return by_id(schemes_, id); }
const Scheme* Funding::scheme_by_name(const std::string& n) const {
  return by_name(schemes_, scheme_names_, n);
}
const Award* Funding::award(AwardId id) const { return by_id(awards_, id); }
Award* Funding::mutable_award(AwardId id) { return const_cast<Award*>(by_id(awards_, id)); }
Org* Funding::mutable_org(OrgId id) { return const_cast<Org*>(by_id(orgs_, id)); }

const std::vector<AwardId>& Funding::awards_of(ProjectId project) const {
  static const std::vector<AwardId> kNone;
  auto it = project_awards_.find(project.value);
  return it == project_awards_.end() ? kNone : it->second;
}

std::vector<const Award*> Funding::funding_sources(ProjectId project) const {
  std::vector<const Award*> out;
  const std::vector<AwardId>& stated = funding_order(project);
  for (AwardId id : stated) out.push_back(award(id));
  for (AwardId id : awards_of(project))
    if (std::find(stated.begin(), stated.end(), id) == stated.end()) out.push_back(award(id));
  return out;
}

std::vector<const Award*> Funding::active_sources(ProjectId project, int64_t now_ms) const {
  std::vector<const Award*> out = funding_sources(project);
  std::erase_if(out, [now_ms](const Award* a) { return !a->active_at(now_ms); });
  return out;
}

Status Funding::check_funding_order(ProjectId project, const std::vector<AwardId>& order) const {
  if (!this->project(project))
    return Status::NotFound("project " + std::to_string(project.value) + " not found");
  for (size_t i = 0; i < order.size(); ++i) {
    const Award* a = award(order[i]);
    if (!a || a->project != project)
      return Status::Invalid("award " + std::to_string(order[i].value) +
                             " is not an award of project " + this->project(project)->name);
    for (size_t j = 0; j < i; ++j)
      if (order[j] == order[i])
        return Status::Invalid("award " + std::to_string(order[i].value) + " is named twice");
  }
  return Status::Ok();
}

Status Funding::set_funding_order(ProjectId project, const std::vector<AwardId>& order) {
  BERTH_RETURN_IF_ERROR(check_funding_order(project, order));
  if (order.empty())
    funding_order_.erase(project.value);
  else
    funding_order_[project.value] = order;
  return Status::Ok();
}

const std::vector<AwardId>& Funding::funding_order(ProjectId project) const {
  static const std::vector<AwardId> kDefault;
  auto it = funding_order_.find(project.value);
  return it == funding_order_.end() ? kDefault : it->second;
}

}  // namespace berth::core
