// Lists kept as text in one column, and how a stored text is shown in a message. Shared by the
// column descriptions of every table (columns.h) and by any store that keeps them.
#pragma once

#include <string>
#include <vector>

#include "common/ids.h"
#include "core/model.h"

namespace berth::store {

// A stored text as shown in a message: at most 64 bytes, so one huge field cannot flood the log.
std::string shown_text(const std::string& text);

// Integers, "0,1"; '' for none: a job's GPU ids, a review's scores.
std::string int_list_text(const std::vector<int>& ids);
// The inverse of int_list_text; false on text that is not integers separated by ','.
bool parse_int_list(const std::string& text, std::vector<int>* out);

// Node ids, "3,5"; '' for none.
std::string node_ids_text(const std::vector<NodeId>& ids);
// The inverse of node_ids_text; false on text that is not ascending positive ids.
bool parse_node_ids(const std::string& text, std::vector<NodeId>* out);

// A gang job's nodes after its first: "4:0,1,2,3;7:0,1,2,3" (node id, ':', its GPU ids, ';'
// between nodes), '' for none.
std::string more_nodes_text(const std::vector<core::Placement>& placements);
// The inverse of more_nodes_text; false on malformed text (a node id that is not a positive
// integer, a missing ':', an empty entry, a bad GPU id list).
bool parse_more_nodes(const std::string& text, std::vector<core::Placement>* out);

}  // namespace berth::store
