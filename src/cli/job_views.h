// How the CLI prints jobs the way Slurm's commands do: sacct's columns (`berth history`),
// scontrol's `show job` (`berth show`) and sinfo's partitions (`berth partitions`). Pure
// functions from the server's JSON (docs/api.md) to text; a missing field prints as Slurm
// prints it ("Unknown" for a time, "(null)" otherwise in `show`, "-" in tables).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace berth::cli {

// squeue's JOBID: "12_3" for the task with index 3 of the array whose id is 12, the id otherwise.
std::string job_id_cell(const nlohmann::json& job);

// How long a job has run: its last run's runtime once ended, up to `now_ms` while running, 0
// before it starts.
int64_t job_elapsed_s(const nlohmann::json& job, int64_t now_ms);

// One column of `berth history`: its Slurm name (sacct --format), whether it is a number
// (right-aligned), and how a job fills it.
struct HistoryColumn {
  const char* name;
  bool right;
  std::string (*value)(const nlohmann::json& job, int64_t now_ms);
  bool money = false;  // an exact amount: shown for people in tables, exact in CSV and JSON
};

// The columns named in sacct's --format text ("JobID,JobName%20,State"): names are matched
// without regard to case, a "%N" width is accepted and ignored (berth's tables fit their
// cells). An unknown name is Invalid, listing the known ones.
Result<std::vector<const HistoryColumn*>> history_columns(const std::string& format);
// The columns `berth history` shows without --format.
extern const char kDefaultHistoryFormat[];

// The jobs as a table of `columns`, or as CSV (a header of the columns' names, then one line per
// job; text cells that a spreadsheet would run as formulas are quoted as statements' are).
// Amounts are shown as people read them, in `currency` (table.h's money_cell).
std::string render_history(const nlohmann::json& jobs,
                           const std::vector<const HistoryColumn*>& columns, int64_t now_ms,
                           const std::string& currency);
std::string history_csv(const nlohmann::json& jobs,
                        const std::vector<const HistoryColumn*>& columns, int64_t now_ms);

// One job as scontrol's `show job` prints it: Key=Value pairs, a few per line, durations as
// D-HH:MM:SS, the rest of the server's fields after them.
std::string render_job_scontrol(const nlohmann::json& job, int64_t now_ms);

// sinfo: one row per partition and node state, from GET /v1/partitions and GET /v1/nodes
// (every partition may use every node): PARTITION (the default marked *), AVAIL, TIMELIMIT,
// NODES, STATE (idle, mix, alloc, drain, drng, down), GPUS(A/I/O/T) (allocated, idle, other
// (on a drained or down node) and total), GPU_MODEL and NODELIST.
std::string render_partitions(const nlohmann::json& partitions, const nlohmann::json& nodes);

}  // namespace berth::cli
