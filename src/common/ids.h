// Distinct id types, so that a JobId can never be passed where an AccountId is meant.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace berth {

template <typename Tag>
struct Id {
  uint64_t value = 0;
  constexpr Id() = default;
  constexpr explicit Id(uint64_t v) : value(v) {}
  constexpr bool valid() const { return value != 0; }  // 0 is never a real id
  constexpr auto operator<=>(const Id&) const = default;
};

using OrgId = Id<struct OrgTag>;
using ProjectId = Id<struct ProjectTag>;
using SchemeId = Id<struct SchemeTag>;
using AwardId = Id<struct AwardTag>;
using AccountId = Id<struct AccountTag>;
using TransferId = Id<struct TransferTag>;
using JobId = Id<struct JobTag>;
using NodeId = Id<struct NodeTag>;
using ApplicationId = Id<struct ApplicationTag>;

}  // namespace berth

template <typename Tag>
struct std::hash<berth::Id<Tag>> {
  size_t operator()(const berth::Id<Tag>& id) const noexcept {
    return std::hash<uint64_t>()(id.value);
  }
};
