#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <vector>

#include "models/SlotIndex.hpp"

using namespace flowlier::models;

namespace {
// Keys are slot numbers here; `hashes[slot]` is the key's hash.
std::uint32_t find(const SlotIndex& index, const std::vector<std::uint64_t>& hashes, std::uint32_t key) {
  return index.find(hashes[key], [&](std::uint32_t slot) { return slot == key; });
}
}  // namespace

TEST_CASE("SlotIndex finds what was inserted and nothing else", "[slot_index]") {
  SlotIndex index;
  std::vector<std::uint64_t> hashes{42, 42, 7, 0xffffffffffffffffULL};
  CHECK(find(index, hashes, 0) == SlotIndex::kNone);
  for (std::uint32_t s = 0; s < 3; ++s) index.insert(hashes[s], s);
  CHECK(index.size() == 3);
  CHECK(find(index, hashes, 0) == 0);
  CHECK(find(index, hashes, 1) == 1);  // same hash, told apart by matches()
  CHECK(find(index, hashes, 2) == 2);
  CHECK(find(index, hashes, 3) == SlotIndex::kNone);
  CHECK(index.erase(42, 0));
  CHECK_FALSE(index.erase(42, 0));
  CHECK(find(index, hashes, 0) == SlotIndex::kNone);
  CHECK(find(index, hashes, 1) == 1);
  CHECK(index.size() == 2);
}

TEST_CASE("SlotIndex agrees with a reference map under random inserts and erases with colliding hashes",
          "[slot_index]") {
  std::mt19937_64 rng(7);
  const std::uint32_t keys = 3000;
  std::vector<std::uint64_t> hashes(keys);
  // Few distinct low bits: long probe runs that wrap around the end of the table.
  for (auto& h : hashes) h = (0xffffffffULL - rng() % 64) | (rng() << 32);  // homes at the table's end
  SlotIndex index;
  std::map<std::uint32_t, bool> present;
  for (int step = 0; step < 40000; ++step) {
    const auto key = static_cast<std::uint32_t>(rng() % keys);
    if (present[key] && rng() % 3 == 0) {
      REQUIRE(index.erase(hashes[key], key));
      present[key] = false;
    } else if (!present[key]) {
      index.insert(hashes[key], key);
      present[key] = true;
    }
    if (step % 997 == 0) {
      std::size_t count = 0;
      for (std::uint32_t k = 0; k < keys; ++k) {
        const bool in = present.count(k) && present[k];
        REQUIRE(find(index, hashes, k) == (in ? k : SlotIndex::kNone));
        count += in;
      }
      REQUIRE(index.size() == count);
    }
  }
  CHECK(index.memory_usage() >= index.size() * 2 * 16);
}
