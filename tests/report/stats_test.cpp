// The report's statistics against numpy and scipy (scripts/reference/report_welch_cases.py writes them as
// the report_welch_cases fixture): Welch's t-test, Student's t CDF, the incomplete beta, quantiles.
#include "report/stats.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

using nlohmann::json;
namespace r = petlab::report;

namespace {

constexpr double kTolerance = 1e-9;

json fixture(const std::string& name) {
  const auto path = std::filesystem::path(PETLAB_FIXTURE_DIR) / "report_welch_cases" / name;
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "missing fixture " << path << " (run the fixture:report_welch_cases test first)");
  return json::parse(in)["data"];
}

/// The fixture writes non-finite numbers as "nan", "inf", "-inf".
double number(const json& v) {
  if (v.is_number()) return v.get<double>();
  const std::string s = v.get<std::string>();
  if (s == "nan") return NAN;
  return s == "inf" ? INFINITY : -INFINITY;
}

void check_close(double ours, const json& reference, const std::string& what) {
  const double ref = number(reference);
  INFO(what << ": ours " << ours << ", reference " << ref);
  if (std::isnan(ref) || std::isinf(ref)) {
    CHECK(((std::isnan(ref) && std::isnan(ours)) || ours == ref));
  } else {
    CHECK(std::abs(ours - ref) <= kTolerance);
  }
}

}  // namespace

TEST_CASE("Welch's t-test, means and sample stds equal scipy.stats.ttest_ind(equal_var=False)") {
  const json cases = fixture("welch.json");
  REQUIRE(cases.size() >= 60);
  int finite_p = 0;
  for (const auto& c : cases) {
    const std::string name = c["name"];
    const auto a = c["a"].get<std::vector<double>>(), b = c["b"].get<std::vector<double>>();
    const r::Summary sa = r::summarize(a), sb = r::summarize(b);
    check_close(sa.mean, c["mean_a"], name + " mean a");
    check_close(sa.std, c["std_a"], name + " std a");
    check_close(sb.mean, c["mean_b"], name + " mean b");
    check_close(sb.std, c["std_b"], name + " std b");
    const r::WelchTest w = r::welch_t_test(a, b);
    // t and df are checked relative to their size: a huge t is only as exact as its inputs.
    const double t_ref = number(c["t"]);
    if (std::isfinite(t_ref)) {
      INFO(name << " t: ours " << w.t << ", scipy " << t_ref);
      CHECK(std::abs(w.t - t_ref) <= kTolerance * std::max(1.0, std::abs(t_ref)));
      const double df_ref = number(c["df"]);
      INFO(name << " df: ours " << w.df << ", scipy " << df_ref);
      CHECK(std::abs(w.df - df_ref) <= kTolerance * std::max(1.0, df_ref));
    } else {
      check_close(w.t, c["t"], name + " t");
    }
    check_close(w.p, c["p"], name + " p");
    if (std::isfinite(w.p)) ++finite_p;
  }
  CHECK(finite_p >= 55);
}

TEST_CASE("Student's t CDF equals scipy.stats.t.cdf for integer and fractional df") {
  const json cases = fixture("student_t.json");
  REQUIRE(cases.size() >= 100);
  for (const auto& c : cases) {
    const double t = c["t"], df = c["df"];
    check_close(r::student_t_cdf(t, df), c["cdf"], "t=" + std::to_string(t) + " df=" + std::to_string(df));
  }
}

TEST_CASE("the regularised incomplete beta equals scipy.special.betainc") {
  const json cases = fixture("betainc.json");
  REQUIRE(cases.size() >= 150);
  for (const auto& c : cases) {
    const double a = c["a"], b = c["b"], x = c["x"];
    check_close(r::regularized_incomplete_beta(a, b, x, 1.0 - x), c["value"],
                "a=" + std::to_string(a) + " b=" + std::to_string(b) + " x=" + std::to_string(x));
  }
}

TEST_CASE("quantiles equal numpy.quantile (linear interpolation)") {
  for (const auto& c : fixture("quantile.json")) {
    const double q = c["q"];
    check_close(r::quantile(c["values"].get<std::vector<double>>(), q), c["value"], "q=" + std::to_string(q));
  }
}
