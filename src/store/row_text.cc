#include "store/row_text.h"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace berth::store {

std::string shown_text(const std::string& text) {
  constexpr size_t kMaxShown = 64;
  return text.size() <= kMaxShown ? text : text.substr(0, kMaxShown) + "...";
}

std::string int_list_text(const std::vector<int>& ids) {
  std::string out;
  for (int id : ids) {
    if (!out.empty()) out += ',';
    out += std::to_string(id);
  }
  return out;
}

bool parse_int_list(const std::string& text, std::vector<int>* out) {
  out->clear();
  if (text.empty()) return true;
  const char* p = text.data();
  const char* end = p + text.size();
  while (true) {
    int id = 0;
    const auto [next, ec] = std::from_chars(p, end, id);
    if (ec != std::errc() || next == p) return false;
    out->push_back(id);
    if (next == end) return true;
    if (*next != ',') return false;
    p = next + 1;
  }
}

std::string node_ids_text(const std::vector<NodeId>& ids) {
  std::string out;
  for (NodeId id : ids) {
    if (!out.empty()) out += ',';
    out += std::to_string(id.value);
  }
  return out;
}

bool parse_node_ids(const std::string& text, std::vector<NodeId>* out) {
  std::vector<int> ids;
  out->clear();
  if (!parse_int_list(text, &ids)) return false;
  for (int id : ids) {
    if (id <= 0 || (!out->empty() && NodeId(static_cast<uint64_t>(id)) <= out->back()))
      return false;
    out->push_back(NodeId(static_cast<uint64_t>(id)));
  }
  return true;
}

std::string more_nodes_text(const std::vector<core::Placement>& placements) {
  std::string out;
  for (const core::Placement& p : placements) {
    if (!out.empty()) out += ';';
    out += std::to_string(p.node.value) + ':' + int_list_text(p.gpu_ids);
  }
  return out;
}

bool parse_more_nodes(const std::string& text, std::vector<core::Placement>* out) {
  out->clear();
  if (text.empty()) return true;
  size_t start = 0;
  while (true) {
    const size_t end = std::min(text.find(';', start), text.size());
    const std::string_view entry(text.data() + start, end - start);
    const size_t colon = entry.find(':');
    if (colon == std::string_view::npos) return false;
    uint64_t node = 0;
    const auto [next, ec] = std::from_chars(entry.data(), entry.data() + colon, node);
    if (ec != std::errc() || next != entry.data() + colon || node == 0) return false;
    core::Placement p;
    p.node = NodeId(node);
    if (!parse_int_list(std::string(entry.substr(colon + 1)), &p.gpu_ids)) return false;
    out->push_back(std::move(p));
    if (end == text.size()) return true;
    start = end + 1;
  }
}

}  // namespace berth::store
