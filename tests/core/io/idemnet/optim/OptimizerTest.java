package io.idemnet.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.idemnet.autograd.Parameter;
import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.CpuBackend;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Optimizers against hand-computed PyTorch formulas (float32 values, tolerance 1e-6). */
class OptimizerTest {
  private static final Backend CPU = new CpuBackend();

  private static Parameter param(float[] w, float[] g) {
    Parameter p = new Parameter(CPU.fromArray(w, w.length));
    p.grad().copyFrom(g);
    return p;
  }

  @Test
  void sgdWithMomentumAndDecay() {
    try (Parameter p = param(new float[] {1f, -2f}, new float[] {0.5f, 0.25f});
        Sgd opt = new Sgd(Map.of("w", p), 0.1f, 0.9f, 0.01f)) {
      opt.step(); // d = g + 0.01 w; v = d; w -= 0.1 v
      float d0 = 0.5f + 0.01f, d1 = 0.25f - 0.02f;
      float[] w1 = {1f - 0.1f * d0, -2f - 0.1f * d1};
      assertArrayEquals(w1, p.value().toArray(), 1e-6f);
      opt.step(); // v = 0.9 v + (g + 0.01 w1)
      float v0 = 0.9f * d0 + 0.5f + 0.01f * w1[0], v1 = 0.9f * d1 + 0.25f + 0.01f * w1[1];
      assertArrayEquals(new float[] {w1[0] - 0.1f * v0, w1[1] - 0.1f * v1}, p.value().toArray(), 1e-6f);
      assertEquals(2, opt.steps());
    }
  }

  @Test
  void adamFirstStepMovesByTheLearningRate() {
    try (Parameter p = param(new float[] {1f, -2f, 3f}, new float[] {0.5f, -4f, 1e-3f}); Adam opt = new Adam(Map.of("w", p), 0.01f)) {
      opt.step(); // bias-corrected m/sqrt(v) = g/|g| on the first step
      float[] expect = {1f - 0.01f * 0.5f / (0.5f + 1e-8f), -2f + 0.01f * 4f / (4f + 1e-8f), 3f - 0.01f * 1e-3f / (1e-3f + 1e-8f)};
      assertArrayEquals(expect, p.value().toArray(), 1e-6f);
      assertEquals(2, opt.state().size());
    }
  }

  @Test
  void schedules() {
    LearningRateSchedule cos = LearningRateSchedule.cosine(1f, 0.1f, 100);
    assertEquals(1f, cos.at(0), 1e-7f);
    assertEquals(0.55f, cos.at(50), 1e-6f);
    assertEquals(0.1f, cos.at(100), 1e-7f);
    assertEquals(0.1f, cos.at(150), 1e-7f);
    LearningRateSchedule step = LearningRateSchedule.step(1f, 10, 0.5f);
    assertEquals(1f, step.at(9));
    assertEquals(0.5f, step.at(10));
    assertEquals(0.25f, step.at(25));
    assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.cosine(1f, 0f, 0));
  }

  @Test
  void badHyperParametersAreRejected() {
    try (Parameter p = param(new float[] {1f}, new float[] {1f})) {
      assertThrows(IllegalArgumentException.class, () -> new Sgd(Map.of("w", p), -1f));
      assertThrows(IllegalArgumentException.class, () -> new Sgd(Map.of("w", p), 0.1f, 1.5f, 0f));
      assertThrows(IllegalArgumentException.class, () -> new Adam(Map.of("w", p), 0.1f, 1f, 0.999f, 1e-8f, 0f));
    }
  }
}
