package io.idemnet.steps;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.fpn.FpnExperiment;
import io.idemnet.idempotent.IdempotentLoss;
import io.idemnet.ign.IgnTrainer;
import io.idemnet.steps.WholeStepComparison.Perturbation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.opentest4j.AssertionFailedError;

/**
 * The whole-step comparisons of {@link WholeStepComparison} with the plain-Java reference backend
 * as the candidate and the cpu backend as the baseline: the comparisons' logic and tolerances run
 * in every build (the GPU runs them with cuda as the candidate: {@code CudaWholeStepTest}). The
 * last five tests show that each comparison can fail: a learning rate 10% off on the candidate
 * side is caught, and a learning rate 50% off in the last step only, which no compared loss sees,
 * is caught by the parameter checks (each test prints which check caught it).
 */
class ReferenceVsCpuTrainingStepTest {
  private static final Backend CPU = new CpuBackend();
  private static final Backend REFERENCE = new ReferenceBackend();

  @AfterAll
  static void close() {
    CPU.close();
    REFERENCE.close();
  }

  @ParameterizedTest
  @EnumSource(IdempotentLoss.Mode.class)
  void mlpAdamSteps(IdempotentLoss.Mode mode) {
    WholeStepComparison.mlpAdamStepsAgree(REFERENCE, CPU, mode, Perturbation.NONE);
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"MODIFIED, MNIST", "ORIGINAL, MNIST", "MODIFIED, IGN", "ORIGINAL, IGN"})
  void ignSteps(IgnTrainer.Mode mode, String lambdas) {
    WholeStepComparison.ignStepsAgree(REFERENCE, CPU, mode, lambdas(lambdas), Perturbation.NONE);
  }

  @ParameterizedTest(name = "{0} anderson {1}")
  @CsvSource({"JFB, 1", "JFB, 5", "IMPLICIT, 1", "IMPLICIT, 5", "IMPLICIT_CG, 1", "IMPLICIT_CG, 5"})
  void fpnSteps(FpnExperiment.Variant variant, int anderson) {
    WholeStepComparison.fpnStepsAgree(REFERENCE, CPU, variant, anderson, Perturbation.NONE);
  }

  private static final Perturbation WRONG_LR = new Perturbation(1.1f, false);
  // One step of five (MLP) or three (IGN) at 1.5 times the rate: its total update is ~10-17% off,
  // above the update check's 5%; 10% on the last of five steps (2% of the update) is not caught.
  private static final Perturbation WRONG_LAST_LR = new Perturbation(1.5f, true);

  @Test
  void aWrongLearningRateFailsTheMlpComparison() {
    caught(assertThrows(AssertionFailedError.class,
        () -> WholeStepComparison.mlpAdamStepsAgree(REFERENCE, CPU, IdempotentLoss.Mode.MODIFIED, WRONG_LR)));
  }

  @Test
  void aWrongLearningRateFailsTheIgnComparison() {
    caught(assertThrows(AssertionFailedError.class, () -> WholeStepComparison.ignStepsAgree(REFERENCE, CPU,
        IgnTrainer.Mode.MODIFIED, IgnTrainer.Lambdas.MNIST, WRONG_LR)));
  }

  @Test
  void aWrongLearningRateFailsTheFpnComparison() {
    caught(assertThrows(AssertionFailedError.class,
        () -> WholeStepComparison.fpnStepsAgree(REFERENCE, CPU, FpnExperiment.Variant.JFB, 1, WRONG_LR)));
  }

  @Test
  void aWrongLastLearningRateFailsTheMlpParameterCheck() {
    caught(assertThrows(AssertionFailedError.class,
        () -> WholeStepComparison.mlpAdamStepsAgree(REFERENCE, CPU, IdempotentLoss.Mode.ORDINARY, WRONG_LAST_LR)));
  }

  @Test
  void aWrongLastLearningRateFailsTheIgnParameterCheck() {
    caught(assertThrows(AssertionFailedError.class, () -> WholeStepComparison.ignStepsAgree(REFERENCE, CPU,
        IgnTrainer.Mode.ORIGINAL, IgnTrainer.Lambdas.IGN, WRONG_LAST_LR)));
  }

  private static void caught(AssertionFailedError e) {
    System.out.println("[whole steps] caught with the candidate's learning rate off: " + e.getMessage());
  }

  static IgnTrainer.Lambdas lambdas(String name) {
    return name.equals("IGN") ? IgnTrainer.Lambdas.IGN : IgnTrainer.Lambdas.MNIST;
  }
}
