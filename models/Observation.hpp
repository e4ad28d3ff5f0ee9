#pragma once
// One flow record as seen from one entity: the entity-relative part of a record
// (which side is local, which peer, which service port) that window features need.
// The pipeline derives these from FlowRecords; models never see records.
#include <array>
#include <cstdint>

#include "models/EntityKey.hpp"

namespace flowlier::models {

struct Observation {
  EntityKey entity;
  std::int64_t time_s = 0;       // event time (the flow's start)
  std::uint64_t bytes_in = 0;    // towards the entity
  std::uint64_t bytes_out = 0;   // from the entity
  std::uint64_t packets = 0;     // both directions
  std::uint64_t peer_hash = 0;   // hash of the remote address (0 = unknown)
  std::array<std::uint8_t, 16> peer{};  // the remote address (IPv4-mapped for IPv4), for explanations
  std::uint16_t service_port = 0;  // the non-ephemeral port of the flow
  std::uint16_t local_port = 0;    // the entity's own port (identifies a connection)
  std::uint8_t protocol = 0;
  bool has_peer = false;
  bool has_port = false;
  bool rejected = false;
  bool external_peer = false;  // the remote side is outside the internal networks
  bool inbound = false;        // the entity is the destination
  bool client = false;         // the entity's own port is the ephemeral one: it initiated
  double weight = 1.0;         // 1 / sampling rate: sampled sources (GCP) scale volumes
  // Flow records this observation stands for, counted by direction, the same for every
  // format: one per direction that carried packets in the report (an AWS or GCP record is
  // one direction; an Azure tuple reports both), a denied attempt one. An Azure B tuple
  // without counters is 0: its counters come with the connection's C/E tuples. The
  // record-count features (flows, rejected_flows, external_flows, external_client_flows)
  // add this, times weight.
  std::uint8_t directions = 1;
  // A later report of a connection already reported (Azure C and E tuples): traffic, but
  // no new contact, so the beacon detector, which times contacts by flow start, skips it.
  bool continues = false;
};

}  // namespace flowlier::models
