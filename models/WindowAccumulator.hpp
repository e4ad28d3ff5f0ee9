#pragma once
// The features of one entity in one open window, built up one observation at a time.
#include <array>
#include <cstdint>

#include "core/StateIo.hpp"
#include "models/DistinctCounter.hpp"
#include "models/Feature.hpp"
#include "models/Observation.hpp"
#include "models/SeenHistory.hpp"
#include "models/TopContributors.hpp"

namespace flowlier::models {

using PeerAddress = std::array<std::uint8_t, 16>;

struct PortKey {
  std::uint16_t port = 0;
  std::uint8_t protocol = 0;
  friend bool operator==(const PortKey&, const PortKey&) = default;
};

class WindowAccumulator {
 public:
  // `history` is the entity's memory of peers and ports; novelty is judged against it.
  // Returns true when the observation's peer was new to the entity (a first contact).
  bool add(const Observation& o, SeenHistory& history);

  FeatureVector features() const;
  // Share of the window's flows in which the entity was the destination.
  double inbound_share() const { return flows_ > 0 ? inbound_flows_ / flows_ : 0.0; }

  void save(detectors::StateWriter& w) const;
  bool load(detectors::StateReader& r);
  const TopContributors<PeerAddress, 4>& peers_by_flows() const { return peers_by_flows_; }
  const TopContributors<PeerAddress, 4>& peers_by_bytes() const { return peers_by_bytes_; }
  const TopContributors<PortKey, 4>& ports_by_flows() const { return ports_by_flows_; }
  const TopContributors<PortKey, 4>& ports_by_bytes() const { return ports_by_bytes_; }
  const TopContributors<PeerAddress, 4>& new_peers() const { return new_peers_; }
  const TopContributors<PortKey, 4>& new_ports() const { return new_ports_; }
  // Remote addresses by the unsolicited flows they sent the entity (it served them).
  const TopContributors<PeerAddress, 4>& sources() const { return sources_; }
  // External addresses by the bytes the entity sent them.
  const TopContributors<PeerAddress, 4>& uploads() const { return uploads_; }

 private:
  double flows_ = 0, packets_ = 0, bytes_in_ = 0, bytes_out_ = 0, rejected_ = 0, external_ = 0;
  double new_peer_count_ = 0, new_port_count_ = 0, inbound_flows_ = 0, external_client_ = 0;
  DistinctCounter peers_;
  DistinctCounter ports_;
  DistinctCounter fanout_;
  TopContributors<PeerAddress, 4> peers_by_flows_;
  TopContributors<PeerAddress, 4> peers_by_bytes_;
  TopContributors<PortKey, 4> ports_by_flows_;
  TopContributors<PortKey, 4> ports_by_bytes_;  // volume events rank ports as they rank peers
  TopContributors<PeerAddress, 4> new_peers_;
  TopContributors<PortKey, 4> new_ports_;
  TopContributors<PeerAddress, 4> sources_;
  TopContributors<PeerAddress, 4> uploads_;
};

}  // namespace flowlier::models
