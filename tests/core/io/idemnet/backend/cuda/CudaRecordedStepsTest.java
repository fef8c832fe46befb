package io.idemnet.backend.cuda;

import io.idemnet.idempotent.IdempotentLoss;
import io.idemnet.ign.IgnTrainer;
import io.idemnet.steps.StepScenarios;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The replay contract on the GPU: the scenarios of {@code RecordedStepsTest}, with the step
 * captured as a CUDA graph; replays equal eager GPU steps bit for bit (the kernels are the same
 * and deterministic). Skipped without a GPU.
 */
@Tag("gpu")
class CudaRecordedStepsTest {
  @BeforeAll
  static void gpu() {
    GpuAvailable.assumeGpu();
  }

  @ParameterizedTest
  @EnumSource(IdempotentLoss.Mode.class)
  void mlpStepsReplayBitForBit(IdempotentLoss.Mode mode) {
    StepScenarios.mlpStepReplaysLikeEagerSteps(GpuAvailable.shared(), mode, true, 5);
  }

  @ParameterizedTest
  @EnumSource(IgnTrainer.Mode.class)
  void ignStepsReplayBitForBit(IgnTrainer.Mode mode) {
    StepScenarios.ignStepReplaysLikeEagerSteps(GpuAvailable.shared(), mode, IgnTrainer.Lambdas.IGN, 4);
  }

  @Test
  void adamStepsReplayBitForBit() {
    StepScenarios.adamStepReplaysLikeEagerSteps(GpuAvailable.shared(), 6);
  }
}
