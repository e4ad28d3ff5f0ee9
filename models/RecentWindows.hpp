#pragma once
// The last few closed windows of one entity, for people: the live entity API shows
// them as `recent_windows` (window end, each feature's value and score). Nothing in
// detection reads them, and they are not saved with the state: after a restart they
// fill again from the windows closed since the process started.
//
// Compact because there is one per entity (bench/entity-memory): 8 windows of
//   end     u32 Unix seconds (1970..2106; clamped outside)
//   values  u16 per feature: integers below 32768 exactly, anything else (larger,
//           fractional) on a log scale, to 0.07 % of 1 + value (encode_value)
//   scores  u8 per feature: the 0-100 score in half points, 255 while warming up
// = 46 B a window, 372 B an entity, no heap. Not thread-safe; record() is O(features).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "models/Feature.hpp"

namespace flowlier::models {

class RecentWindows {
 public:
  static constexpr std::size_t kCapacity = 8;

  struct Window {
    std::int64_t end = 0;  // Unix seconds
    FeatureVector values{};
    std::array<std::optional<double>, kFeatureCount> scores{};  // nullopt: warming up
  };

  // One closed window: its end, feature values and scores (0-100; NaN while the
  // feature's baseline is warming up). The oldest window is forgotten past kCapacity.
  void record(std::int64_t end, const FeatureVector& values, const std::array<double, kFeatureCount>& scores);

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // The i-th window kept, oldest first (i < size()), as decoded from its compact form.
  Window at(std::size_t i) const;

  // The codecs, public for their tests. Values are features (>= 0; negative and NaN
  // read as 0); decode_value returns what the code holds, rounded to its precision.
  static std::uint16_t encode_value(double value);
  static double decode_value(std::uint16_t code);
  static std::uint8_t encode_score(double score);
  static std::optional<double> decode_score(std::uint8_t code);

 private:
  std::array<std::uint32_t, kCapacity> ends_{};
  std::array<std::array<std::uint16_t, kFeatureCount>, kCapacity> values_{};
  std::array<std::array<std::uint8_t, kFeatureCount>, kCapacity> scores_{};
  std::uint8_t next_ = 0;  // where the next window goes
  std::uint8_t size_ = 0;
};

}  // namespace flowlier::models
