// Model selection: best-value tracking with patience, the best state kept in memory and restored in place,
// and the divergence monitor.
#include "core/error.hpp"
#include "train/divergence.hpp"
#include "train/early_stopping.hpp"

#include <doctest/doctest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

using namespace petlab;
using namespace petlab::train;

TEST_CASE("early stopping on a metric to maximise, with patience") {
  EarlyStopping stop({.goal = Goal::maximize, .patience = 2});
  CHECK_FALSE(stop.has_best());
  CHECK(stop.update(0.50, 10));
  CHECK(stop.update(0.60, 20));
  CHECK_FALSE(stop.update(0.60, 30));  // a tie keeps the earlier best
  CHECK_FALSE(stop.should_stop());
  CHECK_FALSE(stop.update(0.55, 40));
  CHECK(stop.should_stop());
  CHECK(stop.best() == 0.60);
  CHECK(stop.best_step() == 20);
  CHECK(stop.evaluations_since_best() == 2);
}

TEST_CASE("early stopping on a loss to minimise, with a threshold") {
  EarlyStopping stop({.goal = Goal::minimize, .patience = 1, .min_delta = 0.01});
  CHECK(stop.update(1.0, 1));
  CHECK(stop.update(0.5, 2));
  CHECK_FALSE(stop.update(0.495, 3));  // better, but not by more than min_delta
  CHECK(stop.should_stop());
  CHECK(stop.best() == 0.5);
}

TEST_CASE("NaN is never best, and patience 0 never stops") {
  EarlyStopping stop({.goal = Goal::maximize, .patience = 0});
  CHECK_FALSE(stop.update(std::numeric_limits<double>::quiet_NaN(), 1));
  CHECK_FALSE(stop.has_best());
  CHECK(stop.update(0.1, 2));
  for (int i = 0; i < 50; ++i) stop.update(0.0, 3 + i);
  CHECK_FALSE(stop.should_stop());
  CHECK_THROWS_WITH_AS(EarlyStopping({.patience = -1}), doctest::Contains("patience"), Error);
}

TEST_CASE("the best state holds trainable parameters and the head, and restores them in place") {
  ParameterTable table;
  at::Tensor backbone = at::full({4}, 1.0f);                        // frozen: not captured
  at::Tensor lora = at::full({2, 3}, 2.0f).requires_grad_(true);    // trainable method parameter
  at::Tensor head = at::full({3}, 3.0f).requires_grad_(true);
  table.add({"encoder.w", backbone, "weight", "backbone"});
  table.add({"lora/enc.L0.attn.q.lora_A", lora, "", "lora"});
  table.add({"head.out.weight", head, "head", "head"});

  BestState best;
  CHECK(best.empty());
  CHECK_THROWS_WITH_AS(best.restore(table), doctest::Contains("no best state"), Error);
  best.capture(table);
  CHECK(best.tensors() == 2);
  CHECK(best.elements() == 9);

  {
    at::NoGradGuard no_grad;
    lora.add_(5.0);
    head.mul_(0.0);
    backbone.add_(1.0);
  }
  const void* lora_storage = lora.data_ptr();
  best.restore(table);
  CHECK(lora.data_ptr() == lora_storage);  // same tensor: optimisers and hooks see the restored values
  CHECK(at::equal(lora.detach(), at::full({2, 3}, 2.0f)));
  CHECK(at::equal(head.detach(), at::full({3}, 3.0f)));
  CHECK(at::equal(backbone, at::full({4}, 2.0f)));  // untouched
  CHECK(lora.requires_grad());

  ParameterTable other;
  other.add({"lora/enc.L0.attn.q.lora_A", at::zeros({3, 2}).requires_grad_(true), "", "lora"});
  CHECK_THROWS_WITH_AS(best.restore(other), doctest::Contains("changed shape"), Error);
  ParameterTable missing;
  CHECK_THROWS_WITH_AS(best.restore(missing), doctest::Contains("no longer in the model"), Error);
}

TEST_CASE("a NaN or infinite loss or gradient norm marks the run diverged, once") {
  DivergenceMonitor monitor;
  CHECK(monitor.check_loss(0.7, 1));
  CHECK(monitor.check_grad_norm(3.0, 1));
  CHECK_FALSE(monitor.diverged());
  CHECK_FALSE(monitor.check_loss(std::numeric_limits<double>::quiet_NaN(), 7));
  CHECK_FALSE(monitor.check_grad_norm(std::numeric_limits<double>::infinity(), 8));
  REQUIRE(monitor.diverged());
  CHECK(monitor.divergence()->step == 7);
  CHECK(monitor.divergence()->message() == "loss became nan at step 7");
  DivergenceMonitor grads;
  CHECK_FALSE(grads.check_grad_norm(-std::numeric_limits<double>::infinity(), 3));
  CHECK(grads.divergence()->message() == "gradient norm became -inf at step 3");
}
