#pragma once
// Periodic check-ins to a new external peer (command-and-control beaconing), for one
// entity.
//
// Candidates: external peers the entity reached out to that were NEW to it (the
// caller's seen-peer history says so), at most kSlots of them. A candidate starts
// provisional; when the window of its first contact closes, the caller reports how
// improbable that window's novelty was, and the candidate is kept only if the
// novelty was evidence (p below novelty_evidence). Each later flow to the peer is a
// contact unless it continues the previous contact: same local port (one long
// connection reported once per aggregation interval) or starting within
// contact_gap_seconds of the previous flow (one check-in, several records).
// The silences before check-ins, less the gap, feed a Welford mean and M2: for
// Poisson flows that silence is gap + Exp (memoryless), so the statistic below is
// exact under the null whatever the gap merged.
//
// Evidence: under the null that contacts arrive as a Poisson process (exponential
// intervals, whatever the rate), the intervals divided by their sum are uniform on
// the simplex, and the sample CV (population form) of n intervals satisfies
// CV^2 = n * sum(u_i^2) - 1. {CV <= c} is then a ball of radius c / sqrt(n) around
// the simplex's centre, so for c <= 1/sqrt(n-1) (the ball inside the simplex)
//   P(CV <= c) = (n-1)! pi^((n-1)/2) (c/sqrt(n))^(n-1) / (Gamma((n+1)/2) sqrt(n))
// exactly, and beyond that the same expression is an upper bound (conservative).
// No table, no fitting. Because the candidate is looked at after every new contact,
// the p is multiplied by the number of looks so far (Bonferroni over the sequential
// tests), then combined with the first contact's novelty p as two independent
// p-values: P(U1 U2 <= x) = x (1 - ln x).
//
// Memory: an empty detector is one pointer; the table (kSlots candidates, ~100 bytes
// each) is allocated on the first candidate. No clock reads; times are event times.
#include <array>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>

namespace flowlier::detectors {

struct BeaconConfig {
  bool enabled = true;
  std::int64_t contact_gap_seconds = 30;  // flows closer than this to the previous one are one check-in
  std::uint32_t min_intervals = 5;        // no evidence before this many intervals (n - 1 >= 4 for the formula to bite)
  double novelty_evidence = 0.05;         // a candidate's first window must have novelty p below this

  std::string validate() const;
};

// One flow from the entity to an external peer, as the beacon detector needs it.
struct BeaconContact {
  std::int64_t time_s = 0;
  std::uint64_t peer_hash = 0;
  std::array<std::uint8_t, 16> peer{};  // for explanations
  std::uint16_t service_port = 0;
  std::uint16_t local_port = 0;  // 0 = unknown (no continuation check)
  std::uint8_t protocol = 0;
};

struct BeaconFinding {
  bool present = false;
  std::uint32_t candidate = 0;  // slot, for mark_reported()
  std::array<std::uint8_t, 16> peer{};
  std::uint16_t service_port = 0;
  std::uint8_t protocol = 0;
  std::uint32_t intervals = 0;
  double mean_interval = 0;  // seconds between check-ins (the period)
  double cv = 0;             // observed interval CV (1 for Poisson contacts)
  double periodic_p = 1;     // P(CV this small | Poisson contacts), before corrections
  double novelty_p = 1;      // the first contact window's novelty p
  double tail_probability = 1;  // after the look correction and the novelty combination
  std::int64_t first_contact = 0;
  std::int64_t last_contact = 0;
  std::uint8_t reported = 0;  // what the caller stored with mark_reported()
};

// P(sample CV of n i.i.d. exponential intervals <= cv), exact for cv <= 1/sqrt(n-1)
// and an upper bound beyond; 1 for n < 2. Clamped to [1e-300, 1].
double exponential_cv_lower_tail(double cv, std::uint32_t n) noexcept;

// P(U1 * U2 <= x) for independent uniforms: the combined p of two independent p-values.
double product_of_two_p(double x) noexcept;

class BeaconDetector {
 public:
  static constexpr const char* kTag = "beacon";
  static constexpr std::uint32_t kVersion = 1;
  static constexpr std::size_t kSlots = 4;

  BeaconDetector() = default;
  BeaconDetector(const BeaconDetector& other);
  BeaconDetector& operator=(const BeaconDetector& other);
  BeaconDetector(BeaconDetector&&) noexcept = default;
  BeaconDetector& operator=(BeaconDetector&&) noexcept = default;

  // One flow to an external peer; `new_peer` when the entity had never contacted it.
  void observe(const BeaconContact& contact, bool new_peer, const BeaconConfig& config);
  // The window [start, end) closed: provisional candidates first contacted in it are
  // kept when `novelty_known` and novelty_p < config.novelty_evidence, else dropped.
  void settle(std::int64_t start, std::int64_t end, bool novelty_known, double novelty_p,
              const BeaconConfig& config);
  // The most periodic kept candidate with new contacts since the last call (and at
  // least min_intervals intervals); p multiplied by the number of candidates scored.
  BeaconFinding score(const BeaconConfig& config);
  // Lets the caller remember what it already paged on for a candidate (e.g. severity).
  void mark_reported(std::uint32_t candidate, std::uint8_t reported);

  bool empty() const;
  std::size_t candidate_count() const;

  void save(std::ostream& out) const;
  // On failure returns why and leaves the detector unchanged.
  std::string restore(std::istream& in);
  std::uint64_t checksum() const;
  std::size_t memory_usage() const;

 private:
  struct Candidate {
    std::array<std::uint8_t, 16> peer{};
    std::uint64_t peer_hash = 0;
    std::int64_t first_contact = 0;
    std::int64_t last_contact = 0;  // start of the latest check-in
    std::int64_t last_flow = 0;     // start of the latest flow (check-ins merge on it)
    double mean = 0;                // Welford over silences before check-ins less the gap, seconds
    double m2 = 0;
    float novelty_p = 1;
    std::uint32_t intervals = 0;
    std::uint32_t scored_intervals = 0;  // intervals at the last score()
    std::uint16_t service_port = 0;
    std::uint16_t local_port = 0;  // of the latest check-in
    std::uint8_t protocol = 0;
    std::uint8_t used = 0;
    std::uint8_t confirmed = 0;  // novelty settled as evidence
    std::uint8_t reported = 0;
  };
  using Table = std::array<Candidate, kSlots>;

  std::string payload() const;

  std::unique_ptr<Table> table_;
};

}  // namespace flowlier::detectors
