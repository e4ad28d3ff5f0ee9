#include "pipeline/PeerExchange.hpp"

#include <algorithm>

namespace flowlier::pipeline {

namespace {
// Rounds some party never finished are dropped once this many epochs old.
constexpr std::int64_t kStaleEpochs = 48;
}

PeerExchange::PeerExchange(std::uint32_t parties, std::chrono::milliseconds patience)
    : parties_(std::max<std::uint32_t>(parties, 1)), patience_(patience) {}

models::PeerContribution PeerExchange::exchange(std::int64_t epoch, const models::PeerContribution& mine) {
  std::unique_lock lock(mutex_);
  Round& round = rounds_[epoch];
  round.merged.add(mine);
  ++round.arrived;
  changed_.notify_all();
  const bool complete = changed_.wait_for(lock, patience_, [&] {
    return round.arrived >= parties_ || round.given_up || cancelled_;
  });
  if (!complete || round.arrived < parties_) {
    if (!round.given_up) ++incomplete_;
    round.given_up = true;
    changed_.notify_all();
  }
  models::PeerContribution out = round.merged;
  if (++round.left >= parties_) rounds_.erase(epoch);
  rounds_.erase(rounds_.begin(), rounds_.lower_bound(epoch - kStaleEpochs));
  return out;
}

void PeerExchange::cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
  changed_.notify_all();
}

std::uint64_t PeerExchange::incomplete() const {
  std::lock_guard lock(mutex_);
  return incomplete_;
}

}  // namespace flowlier::pipeline
