#pragma once
// Draws an estate's shape (hosts per role) and its benign zoo from the seed, so that each
// seed is a different estate: which members are present, their hours, periods and sizes.
#include <cstdint>

#include "lab/Environment.hpp"
#include "lab/SimPlan.hpp"

namespace flowlier::lab::sim {

// Hosts per role, scaled; optional roles (nat, lb, k8s, ci, windows, autoscale) may be 0.
// Autoscaled hosts are counted for the whole run: a fresh set each day.
EstateShape draw_shape(Rng& rng, double scale, std::int64_t duration_seconds);

Zoo draw_zoo(Rng& rng, const Environment& env, std::int64_t start, std::int64_t finish, double scale,
             AddressBook& book);

}  // namespace flowlier::lab::sim
