// Tokenise once, sample by data seed with length grouping, pad each batch to its own longest row.
#include "core/error.hpp"
#include "tokenizer/tokenizer.hpp"
#include "train/batching.hpp"
#include "train/encoded_dataset.hpp"

#include <doctest/doctest.h>

#include <petlab/tasks/registry.hpp>
#include <petlab/tasks/sampling.hpp>

#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace fs = std::filesystem;
using namespace petlab;
using namespace petlab::train;

namespace {
const fs::path kModels = fs::path(PETLAB_FIXTURE_DIR) / "tiny_models";

std::vector<int64_t> random_lengths(size_t n, uint64_t seed) {
  tasks::Rng rng(seed);
  std::vector<int64_t> out;
  for (size_t i = 0; i < n; ++i) out.push_back(1 + static_cast<int64_t>(rng.below(120)));
  return out;
}

/// Share of padded positions when each batch is padded to its own longest example.
double padding_share(const std::vector<BatchIndices>& batches, const std::vector<int64_t>& lengths) {
  double padded = 0, real = 0;
  for (const auto& b : batches) {
    int64_t longest = 0;
    for (size_t i : b) longest = std::max(longest, lengths[i]);
    for (size_t i : b) {
      real += static_cast<double>(lengths[i]);
      padded += static_cast<double>(longest - lengths[i]);
    }
  }
  return padded / (padded + real);
}

tasks::Example example(std::vector<std::string> texts, int label = -1) {
  tasks::Example e;
  e.id = "e" + std::to_string(texts.size());
  e.texts = std::move(texts);
  e.label = label;
  return e;
}
}  // namespace

TEST_CASE("the same data_seed gives the same batches, another seed another order") {
  const auto lengths = random_lengths(1000, 1);
  const BatchSampler a(lengths, {.batch_size = 8, .data_seed = 5});
  const BatchSampler b(lengths, {.batch_size = 8, .data_seed = 5});
  const BatchSampler c(lengths, {.batch_size = 8, .data_seed = 6});
  CHECK(a.epoch(0) == b.epoch(0));
  CHECK(a.epoch(3) == b.epoch(3));
  CHECK(a.epoch(0) != c.epoch(0));
  CHECK(a.epoch(0) != a.epoch(1));  // each epoch draws a new order
  const BatchSampler plain(lengths, {.batch_size = 8, .group_by_length = false, .data_seed = 5});
  CHECK(plain.epoch(2) == BatchSampler(lengths, {.batch_size = 8, .group_by_length = false, .data_seed = 5}).epoch(2));
  CHECK(plain.epoch(0) != BatchSampler(lengths, {.batch_size = 8, .group_by_length = false, .data_seed = 6}).epoch(0));
}

TEST_CASE("every example comes exactly once per epoch, in full batches but the last") {
  for (bool grouped : {true, false}) {
    for (size_t n : {1u, 7u, 64u, 1001u}) {
      CAPTURE(grouped);
      CAPTURE(n);
      const auto lengths = random_lengths(n, n);
      const BatchSampler sampler(lengths, {.batch_size = 16, .group_by_length = grouped, .data_seed = 11});
      const auto batches = sampler.epoch(4);
      CHECK(static_cast<int64_t>(batches.size()) == sampler.batches_per_epoch());
      std::multiset<size_t> seen;
      for (size_t i = 0; i < batches.size(); ++i) {
        if (i + 1 < batches.size()) CHECK(batches[i].size() == 16);
        seen.insert(batches[i].begin(), batches[i].end());
      }
      CHECK(seen.size() == n);
      CHECK(std::set<size_t>(seen.begin(), seen.end()).size() == n);
      CHECK(*seen.rbegin() == n - 1);
    }
  }
  const BatchSampler dropping(random_lengths(50, 2), {.batch_size = 16, .data_seed = 1, .drop_last = true});
  CHECK(dropping.epoch(0).size() == 3);
  CHECK(dropping.batches_per_epoch() == 3);
}

TEST_CASE("length grouping cuts padding and puts the longest example first") {
  const auto lengths = random_lengths(4000, 3);
  const BatchSampler grouped(lengths, {.batch_size = 32, .data_seed = 9});
  const BatchSampler shuffled(lengths, {.batch_size = 32, .group_by_length = false, .data_seed = 9});
  const double with = padding_share(grouped.epoch(0), lengths), without = padding_share(shuffled.epoch(0), lengths);
  MESSAGE("padding share: " << with << " grouped vs " << without << " shuffled");
  CHECK(with < 0.1);
  CHECK(without > 0.3);
  const int64_t longest = *std::max_element(lengths.begin(), lengths.end());
  const auto first = grouped.epoch(0).front();
  CHECK(std::any_of(first.begin(), first.end(), [&](size_t i) { return lengths[i] == longest; }));
  // Evaluation order: all examples, longest first.
  const auto eval = evaluation_batches(lengths, 100);
  CHECK(eval.size() == 40);
  CHECK(lengths[eval.front().front()] == longest);
  CHECK(padding_share(eval, lengths) < 0.05);
}

TEST_CASE("bad sampler options are refused with the knob named") {
  CHECK_THROWS_WITH_AS(BatchSampler({1, 2}, {.batch_size = 0}), doctest::Contains("batch_size"), Error);
  CHECK_THROWS_WITH_AS(BatchSampler({}, {}), doctest::Contains("no examples"), Error);
  CHECK_THROWS_WITH_AS(evaluation_batches({1}, 0), doctest::Contains("eval_batch_size"), Error);
}

TEST_CASE("a batch is padded to its own longest row with the pad id") {
  EncodedDataset data;
  data.pad_id = 7;
  data.format = tasks::Format::classification;
  data.examples = {{.rows = {{{10, 11, 12}, {0, 0, 0}}}, .label = 1},
                   {.rows = {{{10, 11, 12, 13, 14}, {0, 0, 1, 1, 1}}}, .label = 0},
                   {.rows = {{{10, 11}, {0, 0}}}, .label = 2},
                   {.rows = {{{std::vector<int64_t>(40, 9)}, std::vector<int64_t>(40, 0)}}, .label = 0}};
  const std::vector<size_t> indices = {2, 0, 1};
  const Batch b = collate(data, indices);
  CHECK(b.input_ids.sizes() == at::IntArrayRef({3, 5}));  // not 40: the long example is in another batch
  CHECK(at::equal(b.input_ids[0], at::tensor({10, 11, 7, 7, 7}, at::kLong)));
  CHECK(at::equal(b.attention_mask.sum(1), at::tensor({2, 3, 5}, at::kLong)));
  CHECK(at::equal(b.token_type_ids[2], at::tensor({0, 0, 1, 1, 1}, at::kLong)));
  CHECK(at::equal(b.labels, at::tensor({2, 1, 0}, at::kLong)));
  CHECK(b.tokens == 10);
  CHECK(b.indices == indices);
  CHECK_FALSE(b.choice_mask.defined());

  SUBCASE("text-to-text targets are padded with -100") {
    data.text_to_text = true;
    data.examples[0].target_ids = {5, 1};
    data.examples[2].target_ids = {4, 4, 4, 1};
    const Batch t = collate(data, std::vector<size_t>{0, 2, 1});
    CHECK(at::equal(t.labels, at::tensor({5, 1, -100, -100, 4, 4, 4, 1, -100, -100, -100, -100}, at::kLong).view({3, 4})));
  }
  SUBCASE("regression targets are float") {
    data.format = tasks::Format::regression;
    data.examples[0].target = 2.5;
    const Batch r = collate(data, std::vector<size_t>{0, 1});
    CHECK((r.labels.scalar_type() == at::kFloat));
    CHECK(r.labels[0].item<float>() == 2.5f);
    CHECK(std::isnan(r.labels[1].item<float>()));
  }
  SUBCASE("choices are rows, example-major, and a ragged batch gets a choice mask") {
    data.format = tasks::Format::candidate_ranking;
    data.examples[0].rows.push_back({{20, 21}, {0, 0}});
    data.examples[0].rows.push_back({{22}, {0}});
    data.examples[1].rows.push_back({{23}, {0}});
    const Batch m = collate(data, std::vector<size_t>{0, 1});
    CHECK(m.num_choices == 3);
    CHECK(m.input_ids.size(0) == 6);
    CHECK(at::equal(m.input_ids[1].narrow(0, 0, 2), at::tensor({20, 21}, at::kLong)));
    REQUIRE(m.choice_mask.defined());
    CHECK(at::equal(m.choice_mask, at::tensor({1, 1, 1, 1, 1, 0}).to(at::kBool).view({2, 3})));
    CHECK(m.tokens == 3 + 2 + 1 + 5 + 1);
  }
}

TEST_CASE("datasets are tokenised once in each task format") {
  const auto& registry = tasks::TaskRegistry::builtin();
  const auto bert = tok::load_tokenizer(kModels / "bert" / "model");
  const EncodeOptions options{.max_length = 32};

  SUBCASE("single texts and pairs") {
    const auto& rte = registry.get("glue/rte");
    const auto data = encode_dataset(rte, {example({"the cat sat", "a cat sat down"}, 1)}, *bert, options);
    REQUIRE(data.size() == 1);
    CHECK(data.examples[0].rows.size() == 1);
    CHECK(data.examples[0].rows[0].ids == bert->encode("the cat sat", std::string("a cat sat down"), 32).ids);
    CHECK(data.examples[0].rows[0].type_ids == bert->encode("the cat sat", std::string("a cat sat down"), 32).type_ids);
    CHECK(data.examples[0].label == 1);
    CHECK(data.examples[0].length == static_cast<int64_t>(data.examples[0].rows[0].ids.size()));
    CHECK(data.pad_id == bert->pad_id());
    const auto& sst2 = registry.get("glue/sst2");
    const auto single = encode_dataset(sst2, {example({"a fine film"}, 0)}, *bert, options);
    CHECK(single.examples[0].rows[0].ids == bert->encode("a fine film", std::nullopt, 32).ids);
    // Truncation to max_length, special tokens included.
    const std::vector<std::string> long_text = {"b c d e f g h i j k l m n o p"};
    const auto truncated = encode_dataset(sst2, {example(long_text)}, *bert, {.max_length = 6});
    CHECK(truncated.examples[0].rows[0].ids.size() <= 6);
  }
  SUBCASE("multiple choice gives a row per choice") {
    auto e = example({"the man broke his toe", "cause"}, 1);
    e.choices = {"he dropped a hammer on his foot", "he got a hole in his sock"};
    const auto data = encode_dataset(registry.get("superglue/copa"), {e}, *bert, options);
    REQUIRE(data.examples[0].rows.size() == 2);
    CHECK(data.examples[0].rows[1].ids ==
          bert->encode("the man broke his toe", std::string("cause he got a hole in his sock"), 32).ids);
  }
  SUBCASE("candidate ranking fills the placeholder and labels the first gold candidate") {
    auto e = example({"paris is in france", "@placeholder is a country"});
    e.choices = {"paris", "france"};
    e.answers = {"france"};
    const auto data = encode_dataset(registry.get("superglue/record"), {e}, *bert, options);
    CHECK(data.examples[0].label == 1);
    CHECK(data.examples[0].rows[1].ids == bert->encode("paris is in france", std::string("france is a country"), 32).ids);
  }
  SUBCASE("a one-text span pair is paired with its spans") {
    auto e = example({"the trophy did not fit because it was too big"}, 1);
    e.spans = {{"the trophy", 0, 0, -1}, {"it", 0, 6, -1}};
    const auto data = encode_dataset(registry.get("superglue/wsc"), {e}, *bert, options);
    CHECK(data.examples[0].rows[0].ids == bert->encode(e.texts[0], std::string("the trophy it"), 32).ids);
  }
  SUBCASE("text-to-text renders the task's prompt and target with eos") {
    const auto t5 = tok::load_tokenizer(kModels / "t5-v1_0" / "model");
    const auto& sst2 = registry.get("glue/sst2");
    const auto e = example({"a fine film"}, 1);
    const auto data = encode_dataset(sst2, {e, example({"no label"})}, *t5, {.max_length = 32, .text_to_text = true});
    const auto rendered = sst2.to_text(e);
    CHECK(data.examples[0].rows[0].ids == t5->encode(rendered.source, std::nullopt, 32).ids);
    CHECK(data.examples[0].target_ids == t5->encode(rendered.target).ids);
    CHECK(data.examples[0].target_ids.back() == *t5->special_tokens().eos);
    CHECK(data.examples[1].target_ids.empty());  // unlabelled: nothing to learn, generation only
  }
  SUBCASE("errors name the task and the example") {
    CHECK_THROWS_WITH_AS(encode_dataset(registry.get("glue/sst2"), {example({})}, *bert, options),
                         doctest::Contains("glue/sst2: example 'e0'"), Error);
    CHECK_THROWS_WITH_AS(encode_dataset(registry.get("glue/sst2"), {example({"x"})}, *bert, {.max_length = 0}),
                         doctest::Contains("max_length"), Error);
  }
}
