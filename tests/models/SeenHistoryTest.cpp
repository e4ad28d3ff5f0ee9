#include <catch2/catch.hpp>

#include <cstdint>

#include "models/SeenHistory.hpp"

using flowlier::models::SeenHistory;

namespace {
std::uint64_t peer(std::uint64_t i) { return i * 0x9e3779b97f4a7c15ULL + 12345; }
}  // namespace

TEST_CASE("a quiet entity remembers every peer it met", "[seen]") {
  SeenHistory h;
  for (std::uint64_t i = 0; i < 60; ++i) CHECK(h.add_peer(peer(i)));
  for (std::uint64_t i = 0; i < 60; ++i) CHECK_FALSE(h.add_peer(peer(i)));
}

TEST_CASE("a chatty entity keeps seeing novelty: the memory does not fill up", "[seen]") {
  // A single never-forgetting filter of the same size answered "seen" to most new
  // peers after a few hundred; the generations keep false "seen" answers rare.
  SeenHistory h;
  for (std::uint64_t i = 0; i < 5000; ++i) h.add_peer(peer(i));
  int missed = 0;
  for (std::uint64_t i = 100000; i < 101000; ++i) missed += h.add_peer(peer(i)) ? 0 : 1;
  CHECK(missed < 50);  // < 5% of 1000 genuinely new peers taken for known
  // The most recent peers are still remembered.
  SeenHistory r;
  for (std::uint64_t i = 0; i < 5000; ++i) r.add_peer(peer(i));
  int forgotten = 0;
  for (std::uint64_t i = 4950; i < 5000; ++i) forgotten += r.add_peer(peer(i)) ? 1 : 0;
  CHECK(forgotten == 0);
}

TEST_CASE("a peer met again is carried into the new generation", "[seen]") {
  SeenHistory h;
  CHECK(h.add_peer(peer(1)));
  // Many generations of other peers, with peer 1 met again in each.
  for (std::uint64_t i = 2; i < 2000; ++i) {
    h.add_peer(peer(i));
    if (i % 50 == 0) CHECK_FALSE(h.add_peer(peer(1)));
  }
  CHECK_FALSE(h.add_peer(peer(1)));
}

TEST_CASE("ports have their own memory", "[seen]") {
  SeenHistory h;
  CHECK(h.add_port(443));
  CHECK(h.add_peer(443));  // the same number as a peer is another item
  CHECK_FALSE(h.add_port(443));
}
