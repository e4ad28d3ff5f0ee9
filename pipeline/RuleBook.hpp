#pragma once
// The rules in force, shared by every engine of a process, and what they did.
// Thread-safe: engines apply() from their own threads while `run` replaces the
// rules on SIGHUP and the metrics thread reads counts(). One mutex; it is taken once
// per incident finding (a few per closed window at most), never per record.
// Counters survive replace() by rule name, so a reload does not reset /metrics.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "pipeline/AnomalyEvent.hpp"
#include "pipeline/Rules.hpp"

namespace flowlier::pipeline {

struct RuleCount {
  std::string name;
  std::uint64_t matches = 0;  // findings the rule acted on
  bool expired = false;       // a matching finding came after its expiry
};

class RuleBook {
 public:
  // `notice` receives one line per rule the first time it is found expired.
  using Notice = std::function<void(const std::string&)>;
  explicit RuleBook(std::vector<Rule> rules = {}, Notice notice = {});

  void replace(std::vector<Rule> rules);
  // The first unexpired matching rule acts on `finding` (see apply_rule). Returns false
  // when the finding is suppressed.
  bool apply(AnomalyEvent& finding);

  std::size_t size() const;
  // Every rule in force, in file order, then rules removed by a reload that had counted.
  std::vector<RuleCount> counts() const;

 private:
  mutable std::mutex mutex_;
  std::vector<Rule> rules_;
  std::map<std::string, std::uint64_t> matches_;  // by rule name, kept across reloads
  std::set<std::string> expired_;                 // reported once, by name
  Notice notice_;
};

}  // namespace flowlier::pipeline
