#pragma once
// Incidents: one planning function per type (draws victims, actors, magnitudes, and
// writes the label) and one traffic function per type (the records of one window).
#include <cstdint>

#include "lab/FlowEmitter.hpp"
#include "lab/SimPlan.hpp"

namespace flowlier::lab::sim {

// What a planning function needs: the estate, fresh actor addresses, the run's end.
struct IncidentContext {
  const Environment& env;
  AddressBook& book;
  double scale = 1.0;
  double traffic = 1.0;     // the estate's busyness (Plan::traffic)
  std::int64_t finish = 0;  // end of the run
};

// Draws one incident of `type` starting at `start` and fills in its label (not its id).
Injection plan_incident(IncidentType type, std::int64_t start, Rng& rng, const IncidentContext& ctx,
                        LabelledSpan& label);

// A sweep by a freshly launched host (an autoscaled instance) in its first hours, when
// its own baseline is too young to page: what judging by peers is for.
Injection plan_newcomer_sweep(std::size_t host, std::int64_t start, Rng& rng, const IncidentContext& ctx,
                              LabelledSpan& label);

// Emits the incident's records for the emitter's current window (the caller checks that
// the window is inside [start, end)). Reject storms change benign traffic instead.
void emit_incident(Injection& inj, FlowEmitter& emit);

// Labels' entities for hosts: interface then address, per host.
std::vector<LabelEntity> host_entities(const Environment& env, const std::vector<std::size_t>& hosts);
// "web-2 (10.0.1.11)"
std::string host_name(const Environment& env, std::size_t index);

}  // namespace flowlier::lab::sim
