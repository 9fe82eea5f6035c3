// What berthd knows of the steps running inside jobs (`berth run` within a job's script, as
// srun within an allocation): which agent asked, where each rank runs, how each ended. Pure
// (no streams): RemoteExecutor keeps one behind its mutex and does what the answers say.
//
// Rules (src/agent/README.md §5):
// - A step runs on every node of its job (rank r on the job's rank r node). Steps are numbered
//   1, 2, ... per job, past any step an agent still holds (so a number is never reused while an
//   agent may answer for it).
// - The step ends once every rank has ended, with the worst end (combined_end). A rank that
//   could not start ends the step at once (all or none): its other ranks are stopped.
// - Steps are not kept on disk: a step is an answer awaited by a process inside the job. When
//   the job ends, or berthd restarts, its steps end with it (agents stop what is left).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "proto/agent.pb.h"

namespace berth::server {

class StepBook {
 public:
  struct Verdict {
    // Set when the step is over: the answer, for the node of the agent that asked.
    std::optional<std::pair<std::string, ::berth::agent::v1::StepDone>> done;
    // (node, rank) of the step's ranks still running, to stop (one could not start).
    std::vector<std::pair<std::string, uint32_t>> stop;
  };

  // A step of `job` on `nodes` (rank r on nodes[r]), asked for by `requester`'s agent as its
  // request `request`. Returns its number.
  uint32_t open(uint64_t job, std::vector<std::string> nodes, std::string requester,
                uint64_t request);
  // An agent holds step `step` of the job: later steps are numbered past it.
  void saw(uint64_t job, uint32_t step);
  // A rank's end (end.id().step() > 0); an end of a step not open (answered, or of an earlier
  // berthd) changes nothing.
  Verdict on_end(const ::berth::agent::v1::JobEnded& end);
  // The job ended: its steps still open end with `why`; the answers, for their requesters.
  std::vector<std::pair<std::string, ::berth::agent::v1::StepDone>> close_job(
      uint64_t job, const std::string& why);
  size_t open_steps() const { return steps_.size(); }

 private:
  struct Step {
    std::vector<std::string> nodes;
    std::string requester;
    uint64_t request = 0;
    std::map<uint32_t, ::berth::agent::v1::JobEnded> ended;  // by rank
  };
  static ::berth::agent::v1::StepDone answer(const Step& s, uint32_t step,
                                             const ::berth::agent::v1::JobEnded& end);

  std::map<std::pair<uint64_t, uint32_t>, Step> steps_;  // by (job, step)
  std::map<uint64_t, uint32_t> last_step_;               // by job
};

}  // namespace berth::server
