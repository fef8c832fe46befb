package io.idemnet.steps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.autograd.Parameter;
import io.idemnet.backend.Backend;
import io.idemnet.backend.CountingBackend;
import io.idemnet.backend.StepGraph;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.idempotent.IdempotentLoss;
import io.idemnet.ign.IgnTrainer;
import io.idemnet.optim.Adam;
import io.idemnet.tensor.Tensor;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The replay contract on the host backends (the cpu backend records kernel calls and replays
 * them): replayed MB, OB, IGN and Adam steps equal eager ones bit for bit over several steps, with
 * dropout masks, learning-rate schedules and Adam's bias correction changing every step; recording
 * runs nothing, refuses host transfers and leaves no state behind when the step throws; the
 * memory a recorded step uses outlives the tensors closed while the step exists.
 */
class RecordedStepsTest {
  private static final Backend CPU = new CpuBackend();

  @ParameterizedTest(name = "{0}, adam={1}")
  @CsvSource({"MODIFIED, true", "ORDINARY, true", "MODIFIED, false"})
  void mlpStepsReplayBitForBit(IdempotentLoss.Mode mode, boolean adam) {
    StepScenarios.mlpStepReplaysLikeEagerSteps(CPU, mode, adam, 5);
  }

  @ParameterizedTest
  @EnumSource(IgnTrainer.Mode.class)
  void ignStepsReplayBitForBit(IgnTrainer.Mode mode) {
    StepScenarios.ignStepReplaysLikeEagerSteps(CPU, mode, IgnTrainer.Lambdas.MNIST, 4);
  }

  @ParameterizedTest
  @EnumSource(IgnTrainer.Mode.class)
  void ignStepsWithTheTightnessClampReplayBitForBit(IgnTrainer.Mode mode) {
    StepScenarios.ignStepReplaysLikeEagerSteps(CPU, mode, IgnTrainer.Lambdas.IGN, 3);
  }

  @Test
  void adamStepsReplayBitForBit() {
    StepScenarios.adamStepReplaysLikeEagerSteps(CPU, 6);
  }

  /**
   * The scalars a replay reads are whatever was written last: replaying without the host half
   * repeats the previous step's bias correction, and the weights leave the eager trajectory (what
   * the bit-for-bit tests above would catch if a scalar were frozen into the recording).
   */
  @Test
  void aReplayWithoutTheHostHalfReusesTheLastScalars() {
    try (Parameter pa = Parameter.uniform(CPU, 1f, 9, 50); Parameter pb = Parameter.uniform(CPU, 1f, 9, 50);
        Adam aa = new Adam(Map.of("w", pa), 1e-2f); Adam ab = new Adam(Map.of("w", pb), 1e-2f)) {
      CPU.fill(pa.grad(), 0.5f);
      CPU.fill(pb.grad(), 0.5f);
      try (StepGraph g = CPU.record(ab::applyStep)) {
        aa.step();
        ab.prepareStep();
        g.replay();
        assertArrayEquals(pa.value().toArray(), pb.value().toArray(), "step 1 with its scalars");
        aa.step();
        g.replay(); // no prepareStep: step 1's lr / (1 - beta1^1) again
        assertFalse(java.util.Arrays.equals(pa.value().toArray(), pb.value().toArray()),
            "step 2 replayed with step 1's bias correction differs from the eager step 2");
      }
    }
  }

  @Test
  void theReferenceBackendRecordsToo() {
    StepScenarios.adamStepReplaysLikeEagerSteps(new ReferenceBackend(), 3);
  }

  @Test
  void theCountingBackendRecordsAndReplaysWithoutTransfers() {
    CountingBackend be = new CountingBackend(CPU);
    StepScenarios.adamStepReplaysLikeEagerSteps(be, 2);
    try (Tensor x = be.full(1f, 100); Tensor y = be.zeros(100)) {
      StepGraph g = be.record(() -> be.axpy(2f, x, y));
      CountingBackend.Counts before = be.counts();
      g.replay();
      g.replay();
      assertEquals(0, be.counts().minus(before).undeclaredTransfers());
      float[] four = new float[100];
      java.util.Arrays.fill(four, 4f);
      assertArrayEquals(four, y.toArray(), "two replays of y += 2x");
      g.close();
    }
  }

  @Test
  void recordingRefusesHostTransfersAndRecovers() {
    try (Tensor x = CPU.full(2f, 10); Tensor y10 = CPU.zeros(10); Tensor one = CPU.zeros(1)) {
      for (Runnable bad : new Runnable[] {() -> CPU.sum(x), x::toArray, () -> x.copyFrom(new float[10]),
          () -> CPU.readScalar(one), () -> CPU.writeScalars(one, 1f), () -> CPU.fromArray(new float[2], 2),
          () -> CPU.corrector(1f, x, x, x, y10, true)}) {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CPU.record(bad));
        assertTrue(e.getMessage().contains("recorded step"), e.getMessage());
        assertFalse(CPU.isRecording(), "the backend left the recording state");
      }
      assertEquals(20.0, CPU.sum(x), "usable after abandoned recordings");
      assertThrows(IllegalStateException.class, () -> CPU.record(() -> CPU.record(() -> {})));
      assertFalse(CPU.isRecording());
    }
  }

  @Test
  void recordingRunsNothingAndAReplayRunsTheKernelsInOrder() {
    try (Tensor x = CPU.full(3f, 4); Tensor y = CPU.full(1f, 4)) {
      StepGraph g = CPU.record(() -> {
        CPU.add(x, y, y); // y = x + y
        CPU.scale(y, 2f, y); // y = 2 y
      });
      assertEquals(2, g.kernelCalls());
      assertArrayEquals(new float[] {1, 1, 1, 1}, y.toArray(), "nothing ran while recording");
      g.replay();
      assertArrayEquals(new float[] {8, 8, 8, 8}, y.toArray(), "(3 + 1) * 2");
      g.replay();
      assertArrayEquals(new float[] {22, 22, 22, 22}, y.toArray(), "(3 + 8) * 2");
      g.close();
      assertThrows(IllegalStateException.class, g::replay);
    }
  }

  /**
   * The graph owns the memory the step uses: a tensor allocated and closed inside the step, and one
   * closed by its owner while the graph exists, keep their memory until the graph is closed (a
   * replay still reads them); then the memory is freed. Tensors the graph never touched are freed
   * at once.
   */
  @Test
  void aRecordedStepKeepsItsMemoryUntilItIsClosed() {
    Tensor out = CPU.zeros(3);
    Tensor input = CPU.full(5f, 3);
    Tensor[] scratch = new Tensor[1];
    StepGraph g = CPU.record(() -> {
      scratch[0] = CPU.zeros(3); // allocated inside the step: zero-filled again by every replay
      CPU.axpy(1f, input, scratch[0]);
      CPU.add(out, scratch[0], out);
      scratch[0].close(); // closed inside the step: freed only with the graph
    });
    assertTrue(scratch[0].isClosed(), "closed for new operations");
    assertThrows(IllegalStateException.class, () -> CPU.fill(scratch[0], 1f));
    input.close(); // its owner closes it while the graph may still run
    g.replay();
    g.replay();
    assertArrayEquals(new float[] {10, 10, 10}, out.toArray(), "two replays add 5 each (scratch re-zeroed every time)");
    assertNotNull(scratch[0].storage(), "memory kept while the graph exists (storage() throws once it is freed)");
    g.close();
    assertThrows(IllegalStateException.class, () -> scratch[0].storage(), "freed with the graph");
    assertThrows(IllegalStateException.class, () -> input.storage(), "freed with the graph");
    Tensor unrelated = CPU.zeros(2);
    unrelated.close();
    assertThrows(IllegalStateException.class, () -> unrelated.storage(), "not used by a graph: freed at once");
    out.close();
  }

  @Test
  void memoryUsedByTwoGraphsIsFreedWithTheLast() {
    Tensor t = CPU.full(1f, 2);
    StepGraph a = CPU.record(() -> CPU.scale(t, 2f, t));
    StepGraph b = CPU.record(() -> CPU.scale(t, 3f, t));
    t.close();
    a.close();
    b.replay();
    assertNotNull(t.storage(), "b still uses it");
    b.close();
    assertThrows(IllegalStateException.class, () -> t.storage());
  }

  @Test
  void aStepThatThrowsLeavesNothingPinned() {
    Tensor[] inside = new Tensor[1];
    assertThrows(IllegalArgumentException.class, () -> CPU.record(() -> {
      inside[0] = CPU.zeros(3);
      inside[0].close();
      throw new IllegalArgumentException("step failed");
    }));
    assertFalse(CPU.isRecording());
    assertThrows(IllegalStateException.class, () -> inside[0].storage(), "freed once the recording was abandoned");
  }
}
