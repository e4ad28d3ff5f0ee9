#include "detectors/BeaconDetector.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <numbers>
#include <ostream>

#include <boost/math/special_functions/gamma.hpp>

#include "detectors/Probability.hpp"
#include "core/StateIo.hpp"

namespace flowlier::detectors {

namespace {
// As in RarityDetector: boost's lgamma in double precision is thread-safe
// (std::lgamma writes the global signgam) and does not promote to long double.
using DoublePolicy = boost::math::policies::policy<boost::math::policies::promote_double<false>>;
double log_gamma(double x) { return boost::math::lgamma(x, DoublePolicy()); }
}  // namespace

std::string BeaconConfig::validate() const {
  if (contact_gap_seconds < 0) return "contact_gap_seconds must be >= 0";
  if (min_intervals < 2) return "min_intervals must be >= 2";
  if (!(novelty_evidence > 0.0 && novelty_evidence <= 1.0)) return "novelty_evidence must be in (0, 1]";
  return {};
}

double exponential_cv_lower_tail(double cv, std::uint32_t n) noexcept {
  if (n < 2 || !std::isfinite(cv)) return 1.0;
  if (!(cv > 0.0)) return kMinTailProbability;
  const double nd = static_cast<double>(n);
  // log of (n-1)! pi^((n-1)/2) (cv/sqrt(n))^(n-1) / (Gamma((n+1)/2) sqrt(n)).
  const double log_p = log_gamma(nd) + 0.5 * (nd - 1.0) * std::log(std::numbers::pi) +
                       (nd - 1.0) * (std::log(cv) - 0.5 * std::log(nd)) - log_gamma(0.5 * (nd + 1.0)) -
                       0.5 * std::log(nd);
  if (log_p >= 0.0) return 1.0;
  return std::max(kMinTailProbability, std::exp(log_p));
}

double product_of_two_p(double x) noexcept {
  if (!(x > 0.0)) return kMinTailProbability;
  if (x >= 1.0) return 1.0;
  return std::clamp(x * (1.0 - std::log(x)), kMinTailProbability, 1.0);
}

BeaconDetector::BeaconDetector(const BeaconDetector& other)
    : table_(other.table_ ? std::make_unique<Table>(*other.table_) : nullptr) {}

BeaconDetector& BeaconDetector::operator=(const BeaconDetector& other) {
  if (this != &other) table_ = other.table_ ? std::make_unique<Table>(*other.table_) : nullptr;
  return *this;
}

void BeaconDetector::observe(const BeaconContact& c, bool new_peer, const BeaconConfig& config) {
  if (!table_) {
    if (!new_peer || !config.enabled) return;
    table_ = std::make_unique<Table>();
  }
  Table& table = *table_;
  for (auto& k : table) {
    if (!k.used || k.peer_hash != c.peer_hash || k.peer != c.peer) continue;
    // A record not after the latest one: the other direction of the same flow, or out
    // of order. Either way no new check-in we could time.
    if (c.time_s <= k.last_flow) return;
    const bool same_connection = c.local_port != 0 && c.local_port == k.local_port;
    const std::int64_t silence = c.time_s - k.last_flow;
    k.last_flow = c.time_s;
    if (same_connection || silence <= config.contact_gap_seconds) return;
    // The silence before this check-in beyond the merge gap: for Poisson flows it is
    // exactly exponential (memoryless), so merging close flows biases nothing.
    const double interval = static_cast<double>(silence - config.contact_gap_seconds);
    ++k.intervals;
    const double delta = interval - k.mean;
    k.mean += delta / k.intervals;
    k.m2 += delta * (interval - k.mean);
    k.last_contact = c.time_s;
    k.local_port = c.local_port;
    return;
  }
  if (!new_peer) return;
  // A free slot, else the provisional candidate seen least recently, else the kept one
  // seen least recently: beacons check in often, one-off peers go quiet.
  Candidate* victim = nullptr;
  for (auto& k : table) {
    if (!k.used) {
      victim = &k;
      break;
    }
    if (!victim || k.confirmed < victim->confirmed ||
        (k.confirmed == victim->confirmed && k.last_flow < victim->last_flow)) {
      victim = &k;
    }
  }
  Candidate fresh;
  fresh.peer = c.peer;
  fresh.peer_hash = c.peer_hash;
  fresh.first_contact = fresh.last_contact = fresh.last_flow = c.time_s;
  fresh.service_port = c.service_port;
  fresh.local_port = c.local_port;
  fresh.protocol = c.protocol;
  fresh.used = 1;
  *victim = fresh;
}

void BeaconDetector::settle(std::int64_t start, std::int64_t end, bool novelty_known, double novelty_p,
                            const BeaconConfig& config) {
  if (!table_) return;
  bool any = false;
  for (auto& k : *table_) {
    if (k.used && !k.confirmed && k.first_contact >= start && k.first_contact < end) {
      if (novelty_known && novelty_p < config.novelty_evidence) {
        k.confirmed = 1;
        k.novelty_p = static_cast<float>(std::max(novelty_p, 1e-30));
      } else {
        k = Candidate{};
      }
    }
    any = any || k.used;
  }
  if (!any) table_.reset();  // nothing tracked: back to one pointer
}

BeaconFinding BeaconDetector::score(const BeaconConfig& config) {
  BeaconFinding best;
  if (!table_) return best;
  std::uint32_t scored = 0;
  for (std::uint32_t i = 0; i < kSlots; ++i) {
    Candidate& k = (*table_)[i];
    if (!k.used || !k.confirmed || k.intervals < config.min_intervals || k.intervals == k.scored_intervals) continue;
    k.scored_intervals = k.intervals;
    ++scored;
    const double cv = k.mean > 0 ? std::sqrt(std::max(0.0, k.m2) / k.intervals) / k.mean : 0.0;
    const double periodic = exponential_cv_lower_tail(cv, k.intervals);
    // Every new contact was a look at the same candidate: Bonferroni over the looks.
    const double looks = static_cast<double>(k.intervals - config.min_intervals + 1);
    const double corrected = std::min(1.0, periodic * looks);
    const double combined = product_of_two_p(corrected * static_cast<double>(k.novelty_p));
    if (!best.present || combined < best.tail_probability) {
      best.present = true;
      best.candidate = i;
      best.peer = k.peer;
      best.service_port = k.service_port;
      best.protocol = k.protocol;
      best.intervals = k.intervals;
      best.mean_interval = static_cast<double>(k.last_contact - k.first_contact) / k.intervals;
      best.cv = cv;
      best.periodic_p = periodic;
      best.novelty_p = k.novelty_p;
      best.tail_probability = combined;
      best.first_contact = k.first_contact;
      best.last_contact = k.last_contact;
      best.reported = k.reported;
    }
  }
  // Several candidates judged at once: Bonferroni over them.
  if (best.present) best.tail_probability = std::min(1.0, best.tail_probability * scored);
  return best;
}

void BeaconDetector::mark_reported(std::uint32_t candidate, std::uint8_t reported) {
  if (table_ && candidate < kSlots) (*table_)[candidate].reported = reported;
}

bool BeaconDetector::empty() const { return candidate_count() == 0; }

std::size_t BeaconDetector::candidate_count() const {
  if (!table_) return 0;
  return static_cast<std::size_t>(
      std::count_if(table_->begin(), table_->end(), [](const Candidate& k) { return k.used != 0; }));
}

std::size_t BeaconDetector::memory_usage() const { return sizeof(*this) + (table_ ? sizeof(Table) : 0); }

std::string BeaconDetector::payload() const {
  StateWriter w;
  const std::uint8_t present = table_ ? 1 : 0;
  w.put(present);
  if (table_) {
    for (const auto& k : *table_) {
      w.put(k.peer);
      w.put(k.peer_hash);
      w.put(k.first_contact);
      w.put(k.last_contact);
      w.put(k.last_flow);
      w.put(k.mean);
      w.put(k.m2);
      w.put(k.novelty_p);
      w.put(k.intervals);
      w.put(k.scored_intervals);
      w.put(k.service_port);
      w.put(k.local_port);
      w.put(k.protocol);
      w.put(k.used);
      w.put(k.confirmed);
      w.put(k.reported);
    }
  }
  return w.take();
}

void BeaconDetector::save(std::ostream& out) const { save_record(out, kTag, kVersion, payload()); }

std::uint64_t BeaconDetector::checksum() const { return fnv1a64(payload()); }

std::string BeaconDetector::restore(std::istream& in) {
  std::string bytes;
  if (std::string error = load_record(in, kTag, kVersion, bytes, 1024); !error.empty()) return error;
  StateReader r(bytes);
  std::uint8_t present = 0;
  r.get(present);
  if (r.ok() && present > 1) r.fail("invalid table marker");
  std::unique_ptr<Table> table;
  if (r.ok() && present == 1) {
    table = std::make_unique<Table>();
    for (auto& k : *table) {
      r.get(k.peer);
      r.get(k.peer_hash);
      r.get(k.first_contact);
      r.get(k.last_contact);
      r.get(k.last_flow);
      r.get(k.mean);
      r.get(k.m2);
      r.get(k.novelty_p);
      r.get(k.intervals);
      r.get(k.scored_intervals);
      r.get(k.service_port);
      r.get(k.local_port);
      r.get(k.protocol);
      r.get(k.used);
      r.get(k.confirmed);
      r.get(k.reported);
      if (!r.ok()) break;
      if (k.used > 1 || k.confirmed > 1) {
        r.fail("invalid candidate flags");
      } else if (!std::isfinite(k.mean) || !std::isfinite(k.m2) || k.mean < 0 || k.m2 < 0 ||
                 !(k.novelty_p >= 0 && k.novelty_p <= 1)) {
        r.fail("invalid interval statistics");
      } else if (k.scored_intervals > k.intervals || k.last_contact < k.first_contact || k.last_flow < k.last_contact) {
        r.fail("inconsistent candidate times or counts");
      }
    }
  }
  if (std::string error = r.finish(); !error.empty()) return "beacon: " + error;
  table_ = std::move(table);
  return {};
}

}  // namespace flowlier::detectors
