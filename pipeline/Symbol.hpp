#pragma once
// Records use the models' inline identifier type, so entity keys copy ids without conversion.
#include "models/Symbol.hpp"

namespace flowlier::pipeline {
using Symbol = models::Symbol;
}  // namespace flowlier::pipeline
