// Request bodies through the API's field readers (server/request_fields.h), against a centre
// with two organisations, their projects, a funded scheme and a job: any body is refused with
// a 4xx Status that says why, or read into values in range that the engine then takes without
// crashing (a quote, a submission) and with its books still balanced.
#include <cstdint>
#include <string>

#include "common/strings.h"
#include "fuzz_support.h"
#include "server/lookups.h"
#include "server/request_fields.h"

namespace {

using berth::Code;
using berth::Minor;
using berth::Status;
using berth::server::json;
using berth::server::Principal;
using berth::server::Role;
namespace core = berth::core;
namespace server = berth::server;

constexpr int64_t kNow = 1'800'000'000'000;

std::unique_ptr<core::Engine> make_centre() {
  core::ClusterConfig c;
  c.nodes = {core::Node{berth::NodeId(), "h1", "H100", 8, 64, 1000, core::NodeState::kUp},
             core::Node{berth::NodeId(), "h2", "H100", 8, 64, 1000, core::NodeState::kUp}};
  c.prices = {{"H100", 300'000}};
  c.partitions = {core::Partition{"gpu", 7 * 24 * 3600, 3600, true}};
  auto e = core::Engine::Create(c, kNow);
  FUZZ_CHECK(e.ok(), "a centre");
  core::Engine& engine = **e;
  const auto a = engine.create_org("a", core::OrgKind::kUniversity, kNow)->id;
  const auto b = engine.create_org("b", core::OrgKind::kStartup, kNow)->id;
  const auto pa = engine.create_project(a, "pa", kNow)->id;
  const auto pb = engine.create_project(b, "pb", kNow)->id;
  FUZZ_CHECK(engine.top_up(pa, 1'000'000'0000, "", kNow).ok(), "a top-up");
  FUZZ_CHECK(engine.top_up(pb, 1'000'000'0000, "", kNow).ok(), "a top-up");
  auto s = engine.create_scheme("s", 7000, 1u << static_cast<int>(core::OrgKind::kUniversity),
                                core::Shortfall::kWallet, 1'000'000'0000, kNow);
  FUZZ_CHECK(s.ok(), "a scheme");
  FUZZ_CHECK(
      engine.create_award(s->id, pa, 100'000'0000, 8, kNow - 1000, kNow + 86'400'000LL * 30, kNow)
          .ok(),
      "an award");
  core::JobRequest r;
  r.project = pb;
  r.gpus = 1;
  r.time_limit_s = 60;
  FUZZ_CHECK(engine.submit(r, kNow).ok(), "a job of b");
  return std::move(*e);
}

// A refusal is the caller's mistake (400, 403 or 404) and says what is wrong.
void check_refusal(const Status& st) {
  FUZZ_CHECK(st.code() == Code::kInvalidArgument || st.code() == Code::kNotFound ||
                 st.code() == Code::kPermissionDenied,
             st.ToString().c_str());
  FUZZ_CHECK(!st.message().empty(), "a refusal says why");
}

template <typename T>
bool accepted(const berth::Result<T>& r) {
  if (!r.ok()) check_refusal(r.status());
  return r.ok();
}

// What the engine answers for a request the readers accepted: anything but a crash or a bug.
void check_engine_answer(const Status& st) {
  FUZZ_CHECK(st.code() != Code::kInternal, st.ToString().c_str());
}

void read_job(core::Engine& e, const json& b, const Principal& who) {
  auto quote = server::job_request(e, b, who, false);
  if (accepted(quote)) {
    FUZZ_CHECK(quote->gpus >= 1 && quote->nodes >= 1, "counts in range");
    auto q = e.quote(*quote, kNow);
    if (!q.ok()) check_engine_answer(q.status());
  }
  auto submit = server::job_request(e, b, who, true);
  if (accepted(submit)) {
    FUZZ_CHECK(submit->user == who.user, "a job is the caller's");
    auto id = e.submit(*submit, kNow);
    if (!id.ok()) check_engine_answer(id.status());
  }
}

void read_fields(const core::Engine& e, const json& b) {
  for (const char* key : {"amount", "fund", "limit", "cap_per_project"}) {
    for (bool negative : {false, true}) {
      auto a = server::amount_field(b, key, negative);
      if (accepted(a)) {
        FUZZ_CHECK(*a <= server::kMaxRequestAmountMinor && *a >= -server::kMaxRequestAmountMinor,
                   "amount in range");
        if (!negative) FUZZ_CHECK(*a >= 0, "no sign, no negative amount");
      }
    }
  }
  for (const char* key : {"name", "user", "gpus", "period", "start", "end"}) {
    (void)accepted(server::str_field(b, key, true));
    (void)accepted(server::int_field(b, key, true));
    (void)accepted(server::date_field(b, key));
    if (auto n = server::name_field(b, key, false); accepted(n))
      FUZZ_CHECK(!berth::has_control_chars(*n), "a name holds no control characters");
  }
  if (auto launch = server::launch_json(b); accepted(launch))
    FUZZ_CHECK((*launch)["workdir"].get<std::string>().front() == '/', "an absolute workdir");
  if (auto terms = server::terms_field(b, nullptr); accepted(terms)) {
    FUZZ_CHECK(terms->gpu_level >= 0 && terms->gpu_level <= core::kMaxGpuLevel, "level in range");
    core::ApplicationTerms base = *terms;
    (void)accepted(server::terms_field(b, &base));
  }
  (void)accepted(server::criteria_field(b));
  (void)accepted(server::registration_fields(b));
  auto every = server::int_field(b, "every", false), grace = server::int_field(b, "grace", false);
  if (every.ok() && grace.ok()) (void)accepted(server::report_rule(*every, *grace));
  (void)e;
}

void read_refs(const core::Engine& e, const json& b, const Principal& who) {
  for (const char* key : {"org", "project", "scheme", "id"}) {
    if (!b.contains(key)) continue;
    const json& ref = b[key];
    (void)accepted(server::find_org(e, ref, who));
    (void)accepted(server::find_project(e, ref, who));
    (void)accepted(server::find_scheme(e, ref));
    const std::string text = ref.is_string() ? ref.get<std::string>() : ref.dump();
    (void)accepted(server::find_job(e, text, who));
    (void)accepted(server::find_visible_award(e, text, who));
    (void)accepted(server::find_application(e, text, who));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const json b = json::parse(data, data + size, nullptr, false);
  if (b.is_discarded() || !b.is_object()) return 0;  // the route refuses these before any reader
  static const std::unique_ptr<core::Engine> kReadOnly = make_centre();
  const Principal who[] = {{"root", Role::kAdmin, berth::OrgId()},
                           {"alice", Role::kMember, berth::OrgId(1)},
                           {"rita", Role::kReviewer, berth::OrgId()}};
  read_fields(*kReadOnly, b);
  for (const Principal& p : who) read_refs(*kReadOnly, b, p);
  // Submissions change the centre: a fresh one per input keeps runs reproducible.
  std::unique_ptr<core::Engine> e = make_centre();
  for (const Principal& p : who) read_job(*e, b, p);
  FUZZ_CHECK(e->ledger().verify().ok(), "the books balance");
  return 0;
}
