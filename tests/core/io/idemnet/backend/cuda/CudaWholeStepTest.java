package io.idemnet.backend.cuda;

import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.fpn.FpnExperiment;
import io.idemnet.idempotent.IdempotentLoss;
import io.idemnet.ign.IgnTrainer;
import io.idemnet.steps.WholeStepComparison;
import io.idemnet.steps.WholeStepComparison.Perturbation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The whole-step comparisons of {@link WholeStepComparison} with the cuda backend as the
 * candidate and the cpu backend as the baseline: MB/OB with Adam on an MLP, the IGN step on
 * Table 2's network in both modes (with and without the tightness clamp), and the FPN step with
 * JFB, Neumann and CG backward, plain and with Anderson memory 5. The same cases run in every
 * build with the reference backend as the candidate ({@code ReferenceVsCpuTrainingStepTest});
 * tolerances and their derivation are in {@link WholeStepComparison}.
 */
@Tag("gpu")
class CudaWholeStepTest {
  private static Backend cpu;

  @BeforeAll
  static void gpu() {
    GpuAvailable.assumeGpu();
    cpu = new CpuBackend();
  }

  @AfterAll
  static void close() {
    if (cpu != null) cpu.close();
  }

  @ParameterizedTest
  @EnumSource(IdempotentLoss.Mode.class)
  void mlpAdamSteps(IdempotentLoss.Mode mode) {
    WholeStepComparison.mlpAdamStepsAgree(GpuAvailable.shared(), cpu, mode, Perturbation.NONE);
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"MODIFIED, MNIST", "ORIGINAL, MNIST", "MODIFIED, IGN", "ORIGINAL, IGN"})
  void ignSteps(IgnTrainer.Mode mode, String lambdas) {
    WholeStepComparison.ignStepsAgree(GpuAvailable.shared(), cpu, mode,
        lambdas.equals("IGN") ? IgnTrainer.Lambdas.IGN : IgnTrainer.Lambdas.MNIST, Perturbation.NONE);
  }

  @ParameterizedTest(name = "{0} anderson {1}")
  @CsvSource({"JFB, 1", "JFB, 5", "IMPLICIT, 1", "IMPLICIT, 5", "IMPLICIT_CG, 1", "IMPLICIT_CG, 5"})
  void fpnSteps(FpnExperiment.Variant variant, int anderson) {
    WholeStepComparison.fpnStepsAgree(GpuAvailable.shared(), cpu, variant, anderson, Perturbation.NONE);
  }
}
