// The SDK's knob handling and site matching, which every method relies on to read its config.
#include <petlab/sdk.hpp>

#include <doctest/doctest.h>

using petlab::sdk::Config;
using petlab::sdk::Error;
using petlab::sdk::KnobList;

namespace {
KnobList lora_like() {
  return {{"r", 8, "rank"},
          {"alpha", 16.0, "scale"},
          {"rslora", false, "rank-stabilised"},
          {"init", "kaiming", "A init"},
          {"targets", std::vector<std::string>{"attn.q", "attn.v"}, "sites"},
          KnobList::value_type::json("layers", "all", "layer selection")};
}
}  // namespace

TEST_CASE("config takes defaults and overrides them by name") {
  Config c(lora_like(), nlohmann::json{{"r", 4}, {"targets", "attn.k"}});
  CHECK(c.get_int("r") == 4);
  CHECK(c.get_float("alpha") == doctest::Approx(16.0));
  CHECK(c.get_bool("rslora") == false);
  CHECK(c.get_string("init") == "kaiming");
  CHECK(c.get_strings("targets") == std::vector<std::string>{"attn.k"});
  CHECK(c.get_json("layers") == "all");
}

TEST_CASE("an int is accepted where a float knob is declared, not the other way round") {
  CHECK(Config(lora_like(), {{"alpha", 32}}).get_float("alpha") == doctest::Approx(32.0));
  CHECK_THROWS_WITH_AS(Config(lora_like(), {{"r", 4.5}}), "knob 'r' expects int, got 4.5", Error);
}

TEST_CASE("an unknown knob is refused with the list of valid ones") {
  try {
    Config(lora_like(), {{"rank", 4}});
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.status() == PETLAB_ERR_INVALID_ARGUMENT);
    CHECK(std::string(e.what()) == "unknown knob 'rank'; valid knobs: r, alpha, rslora, init, targets, layers");
  }
}

TEST_CASE("wrongly typed values name the knob and the expected type") {
  CHECK_THROWS_WITH_AS(Config(lora_like(), {{"rslora", "yes"}}), "knob 'rslora' expects bool, got \"yes\"", Error);
  CHECK_THROWS_WITH_AS(Config(lora_like(), {{"targets", {1, 2}}}), "knob 'targets' expects string list, got [1,2]",
                       Error);
  CHECK_THROWS_AS(Config(lora_like(), nlohmann::json::array()), Error);
}

TEST_CASE("glob matching") {
  using petlab::sdk::glob_match;
  CHECK(glob_match("enc.L*.attn.q", "enc.L11.attn.q"));
  CHECK(glob_match("*", ""));
  CHECK(glob_match("enc.L?.attn.*", "enc.L3.attn.kv"));
  CHECK_FALSE(glob_match("enc.L?.attn.*", "enc.L13.attn.kv"));
  CHECK_FALSE(glob_match("dec.*", "enc.L0.attn.q"));
  CHECK(glob_match("a*b*c", "axxbyyc"));
  CHECK_FALSE(glob_match("a*b*c", "axxbyy"));
}

TEST_CASE("a short target matches that submodule in every layer and stack") {
  using petlab::sdk::site_matches;
  CHECK(site_matches("attn.q", "enc.L0.attn.q"));
  CHECK(site_matches("attn.q", "dec.L5.attn.q"));
  CHECK_FALSE(site_matches("attn.q", "dec.L5.xattn.q"));
  CHECK(site_matches("xattn.*", "dec.L5.xattn.q"));
  CHECK(site_matches("enc.L1.ffn.block", "enc.L1.ffn.block"));
  CHECK_FALSE(site_matches("enc.L1.ffn.block", "enc.L11.ffn.block"));
}

TEST_CASE("parameter tags are matched as whole comma-separated words") {
  petlab::sdk::Param p{"x", "bias,attn,enc", "backbone", 0, false, {}};
  CHECK(p.has_tag("bias"));
  CHECK(p.has_tag("enc"));
  CHECK_FALSE(p.has_tag("bia"));
  CHECK_FALSE(p.has_tag("attn,enc"));
}

TEST_CASE("layer selections: all, ranges, first/last, lists, and random draws from the seeded generator") {
  using petlab::sdk::select_layers;
  using V = std::vector<int>;
  CHECK(select_layers("all", 4) == V{0, 1, 2, 3});
  CHECK(select_layers("1-2", 4) == V{1, 2});
  CHECK(select_layers("first:2", 6) == V{0, 1});
  CHECK(select_layers("last:2", 6) == V{4, 5});
  CHECK(select_layers("first:50%", 6) == V{0, 1, 2});
  CHECK(select_layers("last:50%", 3) == V{1, 2});  // 1.5 layers round to 2
  CHECK(select_layers("first:10%", 3) == V{0});    // at least one layer
  CHECK_THROWS_WITH_AS(select_layers("last:150%", 6), doctest::Contains("between 1% and 100%"), std::invalid_argument);
  CHECK(select_layers(nlohmann::json::array({4, 0, 2, 2}), 6) == V{0, 2, 4});
  CHECK(select_layers(3, 6) == V{3});
  at::manual_seed(5);
  const V first = select_layers("random:3", 12);
  at::manual_seed(5);
  CHECK(select_layers("random:3", 12) == first);  // the init seed fixes the draw
  CHECK(first.size() == 3);
  for (int l : first) CHECK((l >= 0 && l < 12));
}

TEST_CASE("bad layer selections say what is accepted") {
  using petlab::sdk::select_layers;
  CHECK_THROWS_WITH_AS(select_layers("last:7", 6), doctest::Contains("cannot take 7 layers"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(select_layers("4-2", 6), doctest::Contains("the range is empty"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(select_layers(nlohmann::json::array({0, 9}), 6), doctest::Contains("index 9 is out of range"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(select_layers("middle:2", 6), doctest::Contains("unknown form 'middle'"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(select_layers(1.5, 6), doctest::Contains("expected \"all\", \"A-B\""), std::invalid_argument);
}
