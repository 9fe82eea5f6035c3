#include "store/entity_columns.h"

namespace berth::store {

const std::vector<NodeColumn>& node_columns() {
  using core::Node;
  using P = FirstUnreadable;
  static const std::vector<NodeColumn> columns = {
      integer_column<Node, P, &Node::id>("id"),
      text_column<Node, P, &Node::name>("name"),
      text_column<Node, P, &Node::gpu_model>("gpu_model"),
      integer_column<Node, P, &Node::gpus>("gpus"),
      integer_column<Node, P, &Node::cpus>("cpus"),
      integer_column<Node, P, &Node::memory_mb>("memory_mb"),
      {"state", ColumnType::kText,
       [](const Node& n) {
         return ColumnValue{0, core::node_state_name(n.state)};
       },
       [](Node& n, const ColumnValue& v, P& p) {
         if (!core::kNodeStateNames.parse_into(v.text, &n.state)) p.report("state", v.text);
       }},
      text_column<Node, P, &Node::domain>("domain"),
      text_column<Node, P, &Node::agent_version>("agent_version"),
      text_column<Node, P, &Node::address>("address"),
      text_column<Node, P, &Node::isolation>("isolation"),
      integer_column<Node, P, &Node::last_heartbeat_ms>("last_heartbeat_ms"),
      text_column<Node, P, &Node::state_reason>("state_reason"),
      integer_column<Node, P, &Node::silent_down>("silent_down"),
      {"state_before_silence", ColumnType::kText,
       [](const Node& n) {
         return ColumnValue{0, core::node_state_name(n.state_before_silence)};
       },
       [](Node& n, const ColumnValue& v, P& p) {
         if (!core::kNodeStateNames.parse_into(v.text, &n.state_before_silence))
           p.report("state_before_silence", v.text);
       }},
      text_column<Node, P, &Node::reason_before_silence>("reason_before_silence"),
  };
  return columns;
}

const std::vector<TokenColumn>& token_columns() {
  using P = FirstUnreadable;
  static const std::vector<TokenColumn> columns = {
      text_column<TokenRow, P, &TokenRow::token_hash>("token_hash"),
      text_column<TokenRow, P, &TokenRow::user>("user_name"),
      text_column<TokenRow, P, &TokenRow::role>("role"),
      integer_column<TokenRow, P, &TokenRow::org_id>("org_id"),
      integer_column<TokenRow, P, &TokenRow::created_ms>("created_ms"),
      text_column<TokenRow, P, &TokenRow::created_by>("created_by"),
      integer_column<TokenRow, P, &TokenRow::expires_ms>("expires_ms"),
      integer_column<TokenRow, P, &TokenRow::revoked_ms>("revoked_ms"),
      text_column<TokenRow, P, &TokenRow::unix_user>("unix_user"),
  };
  return columns;
}

const std::vector<SubmitKeyColumn>& submit_key_columns() {
  using core::SubmitKey;
  using P = FirstUnreadable;
  static const std::vector<SubmitKeyColumn> columns = {
      text_column<SubmitKey, P, &SubmitKey::user>("user_name"),
      integer_column<SubmitKey, P, &SubmitKey::org>("org_id"),
      text_column<SubmitKey, P, &SubmitKey::key>("key"),
      text_column<SubmitKey, P, &SubmitKey::digest>("digest"),
      integer_column<SubmitKey, P, &SubmitKey::job>("job_id"),
      integer_column<SubmitKey, P, &SubmitKey::created_ms>("created_ms"),
  };
  return columns;
}

}  // namespace berth::store
