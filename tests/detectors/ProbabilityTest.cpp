#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "detectors/Probability.hpp"

using namespace flowlier::detectors;

TEST_CASE("normal tails have known values and never underflow", "[probability]") {
  CHECK(normal_upper_tail(0.0) == Approx(0.5));
  CHECK(normal_upper_tail(1.959963985) == Approx(0.025).epsilon(1e-6));
  CHECK(normal_lower_tail(-3.0) == Approx(0.0013498980).epsilon(1e-6));
  CHECK(normal_tail(3.0, Tail::both) == Approx(0.0026997961).epsilon(1e-6));
  CHECK(normal_tail(-3.0, Tail::upper) == Approx(1.0 - 0.0013498980).epsilon(1e-6));
  CHECK(normal_upper_tail(50.0) == kMinTailProbability);
  CHECK(normal_upper_tail(std::numeric_limits<double>::infinity()) == kMinTailProbability);
  CHECK(normal_upper_tail(std::nan("")) == 1.0);
  CHECK(normal_tail(0.0, Tail::both) == 1.0);
}

TEST_CASE("Student-t tails have known values and guard their inputs", "[probability]") {
  // t(0.975; 10 dof) = 2.228139
  CHECK(student_t_upper_tail(2.228139, 10.0) == Approx(0.025).epsilon(1e-5));
  CHECK(student_t_tail(2.228139, 10.0, Tail::both) == Approx(0.05).epsilon(1e-5));
  CHECK(student_t_lower_tail(-2.228139, 10.0) == Approx(0.025).epsilon(1e-5));
  CHECK(student_t_upper_tail(1e6, 3.0) > 0.0);
  CHECK(student_t_upper_tail(1.0, 0.0) == 1.0);
  CHECK(student_t_upper_tail(std::nan(""), 5.0) == 1.0);
  CHECK(student_t_upper_tail(std::numeric_limits<double>::infinity(), 5.0) == kMinTailProbability);
}

TEST_CASE("chi-square upper tails have known values", "[probability]") {
  CHECK(chi_square_upper_tail(3.841459, 1.0) == Approx(0.05).epsilon(1e-5));
  CHECK(chi_square_upper_tail(9.487729, 4.0) == Approx(0.05).epsilon(1e-5));
  CHECK(chi_square_upper_tail(2.0, 2.0) == Approx(std::exp(-1.0)).epsilon(1e-9));
  CHECK(chi_square_upper_tail(0.0, 3.0) == 1.0);
  CHECK(chi_square_upper_tail(1e6, 3.0) == kMinTailProbability);
  CHECK(chi_square_upper_tail(1.0, -1.0) == 1.0);
}
