#pragma once
// Turns a FlowRecord into one Observation per configured entity kind that the record
// names: decides which side is local, who the peer is, and which port is the service.
//
// The local side comes from the record's direction (AWS flow-direction, Azure I/O) or
// reporter (GCP). AWS v2/v3 records carry neither; there the interface's own address
// is learned as the address that recurs in its records (an ENI's address is in every
// one of its records, so it is a >1/3 heavy hitter: a 2-counter Misra-Gries summary
// per interface finds it), with "the private side" as the fallback.
#include <cstdint>
#include <string>
#include <vector>

#include "core/StateIo.hpp"
#include "models/Observation.hpp"
#include "models/SlotIndex.hpp"
#include "pipeline/FlowRecord.hpp"

namespace flowlier::pipeline {

struct RouterConfig {
  std::vector<models::EntityKind> kinds{models::EntityKind::interface, models::EntityKind::address};
  // Networks counted as internal besides RFC 1918 / ULA / loopback / link-local / CGNAT.
  std::vector<Cidr> internal_networks;
  std::size_t max_learned_interfaces = 1 << 20;
};

class EntityRouter {
 public:
  explicit EntityRouter(RouterConfig config);

  // Appends the observations of `record` to `out` (cleared first). Status records
  // (NODATA, SKIPDATA) produce none.
  void route(const FlowRecord& record, std::vector<models::Observation>& out);

  bool is_internal(const IpAddress& address) const;

  // The learned interface addresses (they decide later records' local side).
  void save(detectors::StateWriter& w) const;
  std::string load(detectors::StateReader& r);
  const RouterConfig& config() const { return config_; }
  // Bytes held by the learned interface table.
  std::size_t memory_usage() const {
    return learned_.capacity() * sizeof(LearnedInterface) + learned_index_.memory_usage();
  }

 private:
  struct AddressVotes {
    IpAddress address[2];
    std::uint32_t count[2] = {0, 0};
    void vote(const IpAddress& a);
    std::uint32_t score(const IpAddress& a) const;
  };
  // True when the record's source is the local side.
  bool source_is_local(const FlowRecord& r);

  struct LearnedInterface {
    Symbol id;
    AddressVotes votes;
  };
  // The votes of one interface, added when first seen. A flat vector plus an
  // open-addressing index: this lookup runs for every AWS v2/v3 record.
  AddressVotes& votes_for(const Symbol& interface_id);

  RouterConfig config_;
  std::vector<LearnedInterface> learned_;
  models::SlotIndex learned_index_;  // SymbolHash of the id -> position in learned_
};

}  // namespace flowlier::pipeline
