package io.idemnet.ign;

import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.nn.ActivationLayer;
import io.idemnet.nn.BatchNorm2d;
import io.idemnet.nn.Conv2d;
import io.idemnet.nn.ConvTranspose2d;
import io.idemnet.nn.Dropout;
import io.idemnet.nn.Module;
import io.idemnet.nn.Sequential;
import java.util.ArrayList;
import java.util.List;

/** The U-Net-free DCGAN-style networks used for Idempotent Generative Networks. */
public final class IgnNetworks {
  private IgnNetworks() {}

  /** The networks `idemnet ign --net` builds, with the image side each one takes. */
  public enum Net {
    /** {@link #mnist}: 28 x 28 images (the project's earlier reading of Table 2; not the paper's strides). */
    MNIST(28, IgnTrainer.Lambdas.MNIST),
    /** {@link #paper}: 28 x 28 images, Table 2 of Jensen &amp; Vicary layer for layer. */
    PAPER(28, IgnTrainer.Lambdas.MNIST),
    /** {@link #celeba64}: 64 x 64 images. */
    CELEBA64(64, IgnTrainer.Lambdas.CELEBA);

    private final int size;
    private final IgnTrainer.Lambdas lambdas;

    Net(int size, IgnTrainer.Lambdas lambdas) {
      this.size = size;
      this.lambdas = lambdas;
    }

    /** The image side (height = width) the network maps to itself. */
    public int imageSize() {
      return size;
    }

    /** The paper's loss weights for this network's data set: MNIST 20/0.1/0.1, CelebA 20/0.006/0.02. */
    public IgnTrainer.Lambdas defaultLambdas() {
      return lambdas;
    }

    /** Builds the network for images of {@code channels} channels, every channel count scaled by {@code width}, weights from {@code seed}. */
    public Sequential build(Backend be, int channels, float width, long seed) {
      return switch (this) {
        case MNIST -> mnist(be, channels, width, seed);
        case PAPER -> paper(be, channels, width, seed);
        case CELEBA64 -> celeba64(be, channels, width, seed);
      };
    }

    /** mnist, paper or celeba64. */
    public String cliName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** By {@link #cliName()} (any case). */
    public static Net parse(String name) {
      for (Net n : values()) if (n.cliName().equalsIgnoreCase(name)) return n;
      throw new IllegalArgumentException("unknown IGN network '" + name + "' (mnist, paper or celeba64)");
    }

    /** Throws a clear error unless images of C x H x W fit this network. */
    public void checkImages(int channels, int height, int width) {
      if (height != size || width != size) {
        throw new IllegalArgumentException("the " + cliName() + " network takes " + size + "x" + size + " images; the data has "
            + height + "x" + width + (this == CELEBA64 ? " (load an image folder, which is scaled to 64x64)" : ""));
      }
      if (channels < 1) throw new IllegalArgumentException("images need at least one channel");
    }
  }

  /**
   * The 28x28 network of Table 2 (Jensen &amp; Vicary, after Shocher et al.), shapes for a 1x28x28 input:
   * encoder Conv 4x4/2 64 (14x14), Conv 4x4/2 128 + BN (7x7), Conv 3x3/2 256 + BN (3x3),
   * Conv 3x3 512 + BN (1x1), Conv 3x3 pad 1 512 (the 512x1x1 latent), each followed by
   * LeakyReLU(0.2) and Dropout(0.05) but the last; decoder ConvT 3x3 256 (3x3), ConvT 3x3/2 128
   * (7x7), ConvT 3x3 pad 1 64 (7x7), ConvT 4x4/2 32 (14x14), each + BN + ReLU, then ConvT 4x4/2 1
   * (28x28) + Tanh. {@code width} scales every channel count (1 = the paper's).
   */
  public static Sequential mnist(Backend be, int channels, float width, long seed) {
    int c64 = w(64, width), c128 = w(128, width), c256 = w(256, width), c512 = w(512, width), c32 = w(32, width);
    return encoderDecoder(be, seed, false,
        List.of(new Conv(channels, c64, 4, 2, 1), new Conv(c64, c128, 4, 2, 1), new Conv(c128, c256, 3, 2, 0),
            new Conv(c256, c512, 3, 1, 0), new Conv(c512, c512, 3, 1, 1)),
        List.of(new Conv(c512, c256, 3, 1, 0), new Conv(c256, c128, 3, 2, 0), new Conv(c128, c64, 3, 1, 1),
            new Conv(c64, c32, 4, 2, 1), new Conv(c32, channels, 4, 2, 1)));
  }

  /**
   * Table 2 of Jensen &amp; Vicary ("U-Net style DCGAN", Appendix F) layer for layer, shapes for a
   * C x 28 x 28 input (kernel/stride/padding, output channels, output side):
   *
   * <pre>
   * encoder  Conv2d          4x4/2/1   64  14   dropout          LeakyReLU(0.2)
   *          Conv2d          4x4/2/1  128   7   dropout  BN      LeakyReLU(0.2)
   *          Conv2d          3x3/1/0  256   5   dropout  BN      LeakyReLU(0.2)
   *          Conv2d          3x3/1/0  512   3   dropout  BN      LeakyReLU(0.2)
   *          Conv2d          3x3/1/0  512   1                    (none)
   * decoder  ConvTranspose2d 3x3/1/0  256   3   dropout  BN      ReLU
   *          ConvTranspose2d 3x3/1/0  128   5   dropout  BN      ReLU
   *          ConvTranspose2d 3x3/1/0   64   7   dropout  BN      ReLU
   *          ConvTranspose2d 4x4/2/1   32  14   dropout  BN      ReLU
   *          ConvTranspose2d 4x4/2/1    C  28                    Tanh
   * </pre>
   *
   * Dropout p = 0.05 (Table 3). The table does not give the order within a row; ours is
   * convolution, BatchNorm, activation, dropout (PyTorch's DCGAN order with the dropout last).
   * Weights and biases have PyTorch's default ("Kaiming uniform") initialisation, U(-1/sqrt(fan_in),
   * 1/sqrt(fan_in)) ({@link Conv2d}, {@link ConvTranspose2d}); BatchNorm weight 1, bias 0, eps 1e-5,
   * momentum 0.1. {@code width} scales every channel count (1 = the paper's; the output keeps C).
   */
  public static Sequential paper(Backend be, int channels, float width, long seed) {
    int c64 = w(64, width), c128 = w(128, width), c256 = w(256, width), c512 = w(512, width), c32 = w(32, width);
    return encoderDecoder(be, seed, true,
        List.of(new Conv(channels, c64, 4, 2, 1), new Conv(c64, c128, 4, 2, 1), new Conv(c128, c256, 3, 1, 0),
            new Conv(c256, c512, 3, 1, 0), new Conv(c512, c512, 3, 1, 0)),
        List.of(new Conv(c512, c256, 3, 1, 0), new Conv(c256, c128, 3, 1, 0), new Conv(c128, c64, 3, 1, 0),
            new Conv(c64, c32, 4, 2, 1), new Conv(c32, channels, 4, 2, 1)));
  }

  /**
   * One row of a network's layer table: a convolution and the BatchNorm, activation and dropout
   * modules that follow it, with the output shape measured by running the network.
   *
   * @param part "encoder" (before the first transposed convolution) or "decoder"
   * @param activation "LeakyReLU(0.2)", "ReLU", "Tanh", ..., or "None"
   * @param dropout the dropout probability, 0 when the row has none
   */
  public record LayerRow(String part, String layer, int kernel, int stride, int padding, int inChannels, int outChannels,
      int outHeight, int outWidth, float dropout, boolean batchNorm, String activation) {
    /** As Table 2 writes it, plus the shapes: part, layer, k x k, stride, padding, in -> out channels, output size. */
    public String format() {
      return String.format(java.util.Locale.ROOT, "%-8s %-16s %dx%d  %d  %d  %4d -> %-4d  %2dx%-2d  %-8s %-3s %s", part, layer,
          kernel, kernel, stride, padding, inChannels, outChannels, outHeight, outWidth,
          dropout > 0 ? "p=" + dropout : "-", batchNorm ? "BN" : "-", activation);
    }
  }

  /**
   * The layer table of an encoder-decoder network of this class (square kernels, equal strides
   * and paddings in both dimensions): one {@link LayerRow} per convolution. Output sizes come from
   * running f (evaluation mode, no tape, then back to training mode) on one C x side x side zero
   * image, layer by layer.
   */
  public static List<LayerRow> layerTable(Backend be, Sequential f, int channels, int side) {
    List<LayerRow> rows = new ArrayList<>();
    int decoder = decoderStart(f);
    List<Module> c = f.children();
    f.eval();
    try (io.idemnet.autograd.Graph g = new io.idemnet.autograd.Graph(be);
        io.idemnet.autograd.Graph.Scope scope = g.noGrad();
        io.idemnet.tensor.Tensor x = be.zeros(1, channels, side, side)) {
      io.idemnet.autograd.Var h = g.constant(x);
      int i = 0;
      while (i < c.size()) {
        Module conv = c.get(i);
        String layer;
        int k, stride, pad, in, out;
        if (conv instanceof Conv2d cv) {
          layer = "Conv2D";
          k = cv.kernelH();
          stride = cv.spec().strideH();
          pad = cv.spec().padH();
          in = cv.inChannels();
          out = cv.outChannels();
        } else if (conv instanceof ConvTranspose2d ct) {
          layer = "ConvTranspose2D";
          k = ct.kernelH();
          stride = ct.spec().strideH();
          pad = ct.spec().padH();
          in = ct.inChannels();
          out = ct.outChannels();
        } else {
          throw new IllegalArgumentException("layer table: child " + i + " (" + conv + ") does not follow a convolution");
        }
        String part = i < decoder ? "encoder" : "decoder";
        h = conv.forward(g, h);
        boolean bn = false;
        float p = 0f;
        String act = "None";
        i++;
        while (i < c.size() && !(c.get(i) instanceof Conv2d) && !(c.get(i) instanceof ConvTranspose2d)) {
          Module m = c.get(i);
          if (m instanceof BatchNorm2d) bn = true;
          else if (m instanceof Dropout d) p = d.p();
          else if (m instanceof ActivationLayer a) act = activationName(a.activation());
          else throw new IllegalArgumentException("layer table: unexpected child " + i + ": " + m);
          h = m.forward(g, h);
          i++;
        }
        int[] shape = h.shape();
        rows.add(new LayerRow(part, layer, k, stride, pad, in, out, shape[2], shape[3], p, bn, act));
      }
    } finally {
      f.train(true);
    }
    return rows;
  }

  private static String activationName(Activation a) {
    if (a.equals(Activation.RELU)) return "ReLU";
    if (a.equals(Activation.TANH)) return "Tanh";
    if (a.equals(Activation.SIGMOID)) return "Sigmoid";
    if (a.equals(Activation.IDENTITY)) return "None";
    return a.toString(); // LeakyReLU(slope)
  }

  /**
   * IGN's DCGAN-style 64x64 network for CelebA-like data (shapes for a C x 64 x 64 input): encoder
   * Conv 4x4/2 pad 1 64 (32x32), Conv 4x4/2 pad 1 128 + BN (16x16), 256 + BN (8x8), 512 + BN (4x4),
   * each followed by LeakyReLU(0.2) and Dropout(0.05) as in {@link #mnist}, then Conv 4x4 valid
   * 512 (the 512x1x1 latent); decoder ConvT 4x4 512 (4x4) + BN + ReLU, ConvT 4x4/2 pad 1 256, 128,
   * 64 (8x8, 16x16, 32x32) each + BN + ReLU, then ConvT 4x4/2 pad 1 C (64x64) + Tanh.
   * {@code width} scales every channel count, the latent's included (1 = the paper's).
   */
  public static Sequential celeba64(Backend be, int channels, float width, long seed) {
    int c64 = w(64, width), c128 = w(128, width), c256 = w(256, width), c512 = w(512, width);
    return encoderDecoder(be, seed, false,
        List.of(new Conv(channels, c64, 4, 2, 1), new Conv(c64, c128, 4, 2, 1), new Conv(c128, c256, 4, 2, 1),
            new Conv(c256, c512, 4, 2, 1), new Conv(c512, c512, 4, 1, 0)),
        List.of(new Conv(c512, c512, 4, 1, 0), new Conv(c512, c256, 4, 2, 1), new Conv(c256, c128, 4, 2, 1),
            new Conv(c128, c64, 4, 2, 1), new Conv(c64, channels, 4, 2, 1)));
  }

  /**
   * Where the decoder begins: the index of the first ConvTranspose2d child. Children before it
   * are the encoder, whose output is the latent (C x 1 x 1 in both networks here).
   */
  public static int decoderStart(Sequential f) {
    List<Module> c = f.children();
    for (int i = 0; i < c.size(); i++) if (c.get(i) instanceof ConvTranspose2d) return i;
    throw new IllegalArgumentException("not an encoder-decoder network (no ConvTranspose2d): " + f);
  }

  /** The encoder of f: its children before {@link #decoderStart} (shared modules, not copies; do not close). */
  public static Sequential encoder(Sequential f) {
    return new Sequential(f.children().subList(0, decoderStart(f)));
  }

  /** The decoder of f: its children from {@link #decoderStart} on (shared modules, not copies; do not close). */
  public static Sequential decoder(Sequential f) {
    return new Sequential(f.children().subList(decoderStart(f), f.children().size()));
  }

  private static int w(int c, float width) {
    return Math.max(1, Math.round(c * width));
  }

  /** One convolution of an encoder-decoder row: channels in and out, square kernel, stride, padding. */
  private record Conv(int in, int out, int kernel, int stride, int padding) {}

  /**
   * The networks' common form. Encoder: each convolution but the last followed by BatchNorm (all
   * but the first), LeakyReLU(0.2) and Dropout(0.05, seed + 100 + row); the last convolution makes
   * the latent. Decoder: each transposed convolution (output padding 0) but the last followed by
   * BatchNorm and ReLU, and Dropout(0.05, seed + 200 + row) when {@code decoderDropout}; the last
   * followed by Tanh. Convolution i (counting both halves) draws its weights from seed + i.
   */
  private static Sequential encoderDecoder(Backend be, long seed, boolean decoderDropout, List<Conv> encoder,
      List<Conv> decoder) {
    List<Module> m = new ArrayList<>();
    long s = seed;
    for (int i = 0; i < encoder.size(); i++) {
      Conv c = encoder.get(i);
      m.add(new Conv2d(be, c.in(), c.out(), c.kernel(), c.stride(), c.padding(), true, s++));
      if (i == encoder.size() - 1) break;
      if (i > 0) m.add(new BatchNorm2d(be, c.out()));
      m.add(new ActivationLayer(Activation.leakyRelu(0.2f)));
      m.add(new Dropout(0.05f, seed + 100 + i));
    }
    for (int i = 0; i < decoder.size(); i++) {
      Conv c = decoder.get(i);
      m.add(new ConvTranspose2d(be, c.in(), c.out(), c.kernel(), c.stride(), c.padding(), 0, true, s++));
      if (i == decoder.size() - 1) break;
      m.add(new BatchNorm2d(be, c.out()));
      m.add(new ActivationLayer(Activation.RELU));
      if (decoderDropout) m.add(new Dropout(0.05f, seed + 200 + i));
    }
    m.add(new ActivationLayer(Activation.TANH));
    return new Sequential(m);
  }
}
