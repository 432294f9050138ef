package org.maejvm.viz;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.maejvm.data.Normalization;

/**
 * The reconstruction figure: one row per image with four panels (original | masked | reconstruction |
 * reconstruction + visible), column titles on top and a caption below. Small images are enlarged by nearest
 * neighbour to at least {@link #MIN_PANEL} pixels, so 28 x 28 Fashion-MNIST is readable. The same inputs give the
 * same pixels.
 */
public final class ReconstructionGrid {
    private ReconstructionGrid() {}

    /** Smallest panel side in pixels; smaller images are scaled up by a whole factor. */
    public static final int MIN_PANEL = 112;
    static final int MARGIN = 12, GAP = 8, TITLE_GAP = 6, CAPTION_GAP = 10;
    static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 13);
    static final Font CAPTION_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    static final Color BACKGROUND = Color.WHITE, TEXT = new Color(0x20, 0x20, 0x20);

    /** The column titles for a mask ratio. */
    public static List<String> columnTitles(double maskRatio) {
        return List.of("original", String.format(Locale.ROOT, "masked (%.0f%%)", maskRatio * 100), "reconstruction",
                "reconstruction + visible");
    }

    /** Where everything goes: panel positions and the caption's top edge, for drawing and for tests. */
    public record Layout(int rows, int imageSize, int scale, int titleHeight, int captionTop, int width, int height) {
        public int panelSize() { return imageSize * scale; }

        /** Left edge of column {@code col} (0..3). */
        public int panelX(int col) { return MARGIN + col * (panelSize() + GAP); }

        /** Top edge of row {@code row}. */
        public int panelY(int row) { return MARGIN + titleHeight + TITLE_GAP + row * (panelSize() + GAP); }
    }

    /** The whole enlargement factor that brings {@code imageSize} to at least {@link #MIN_PANEL}. */
    public static int scaleFor(int imageSize) {
        if (imageSize < 1) throw new IllegalArgumentException("image size must be >= 1, got " + imageSize);
        return Math.max(1, (MIN_PANEL + imageSize - 1) / imageSize);
    }

    /** The figure of a reconstruction, un-normalised with the dataset's Normalize statistics. */
    public static Figure render(Reconstruction r, Normalization normalization, String modelName) {
        return render(r, normalization.mean(), normalization.std(), modelName);
    }

    /** The figure of a reconstruction, un-normalised with the dataset's mean/std. */
    public static Figure render(Reconstruction r, float[] mean, float[] std, String modelName) {
        return render(r.panels(mean, std), columnTitles(r.maskRatio()), r.caption(modelName));
    }

    /** The figure of rows of four equally sized square panels with the given titles and caption lines. */
    public static Figure render(List<Panels> rows, List<String> titles, List<String> caption) {
        if (rows.isEmpty()) throw new IllegalArgumentException("no images to draw: the grid needs at least one row");
        if (titles.size() != 4) throw new IllegalArgumentException("4 column titles needed, got " + titles);
        int size = rows.get(0).original().getWidth();
        for (Panels p : rows) {
            for (BufferedImage img : p.inOrder()) {
                if (img.getWidth() != size || img.getHeight() != size) {
                    throw new IllegalArgumentException("every panel must be " + size + "x" + size + ", got "
                            + img.getWidth() + "x" + img.getHeight());
                }
            }
        }
        int scale = scaleFor(size), panel = size * scale;
        int contentWidth = 4 * panel + 3 * GAP;
        // Measure the text first: titles wrap within a panel, caption lines within the full width.
        Graphics2D probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
        FontMetrics titleMetrics = probe.getFontMetrics(TITLE_FONT), captionMetrics = probe.getFontMetrics(CAPTION_FONT);
        probe.dispose();
        List<List<String>> titleLines = new ArrayList<>();
        int maxTitleLines = 1;
        for (String t : titles) {
            List<String> lines = wrap(t, titleMetrics, panel);
            titleLines.add(lines);
            maxTitleLines = Math.max(maxTitleLines, lines.size());
        }
        List<String> captionLines = new ArrayList<>();
        for (String c : caption) captionLines.addAll(wrap(c, captionMetrics, contentWidth));
        int titleHeight = maxTitleLines * titleMetrics.getHeight();
        int gridBottom = MARGIN + titleHeight + TITLE_GAP + rows.size() * panel + (rows.size() - 1) * GAP;
        int captionTop = gridBottom + CAPTION_GAP;
        int height = captionTop + captionLines.size() * captionMetrics.getHeight() + MARGIN;
        Layout layout = new Layout(rows.size(), size, scale, titleHeight, captionTop, contentWidth + 2 * MARGIN, height);

        BufferedImage out = new BufferedImage(layout.width(), layout.height(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setColor(BACKGROUND);
            g.fillRect(0, 0, layout.width(), layout.height());
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(TEXT);
            g.setFont(TITLE_FONT);
            for (int col = 0; col < 4; col++) {
                List<String> lines = titleLines.get(col);
                for (int i = 0; i < lines.size(); i++) {
                    String line = lines.get(i);
                    int x = layout.panelX(col) + (panel - titleMetrics.stringWidth(line)) / 2;
                    g.drawString(line, x, MARGIN + i * titleMetrics.getHeight() + titleMetrics.getAscent());
                }
            }
            for (int row = 0; row < rows.size(); row++) {
                BufferedImage[] panels = rows.get(row).inOrder();
                for (int col = 0; col < 4; col++) {
                    g.drawImage(Pictures.scaleNearest(panels[col], scale), layout.panelX(col), layout.panelY(row), null);
                }
            }
            g.setFont(CAPTION_FONT);
            for (int i = 0; i < captionLines.size(); i++) {
                g.drawString(captionLines.get(i), MARGIN, captionTop + i * captionMetrics.getHeight() + captionMetrics.getAscent());
            }
        } finally {
            g.dispose();
        }
        return new Figure(out, layout);
    }

    /** A rendered figure and where its panels are. */
    public record Figure(BufferedImage image, Layout layout) {
        /** Writes the figure as PNG (parent folders created) and returns the path. */
        public Path writePng(Path file) throws IOException {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            if (!ImageIO.write(image, "png", file.toFile())) {
                throw new IOException("no PNG writer available in this JVM to write " + file);
            }
            return file;
        }
    }

    /** Greedy word wrap to {@code width} pixels; a word longer than the width gets a line of its own. */
    static List<String> wrap(String text, FontMetrics metrics, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            if (word.isEmpty()) continue; // runs of spaces collapse, as in any wrapped text
            String candidate = line.isEmpty() ? word : line + " " + word;
            if (line.isEmpty() || metrics.stringWidth(candidate) <= width) {
                line.setLength(0);
                line.append(candidate);
            } else {
                lines.add(line.toString().strip());
                line.setLength(0);
                line.append(word);
            }
        }
        if (!line.isEmpty() || lines.isEmpty()) lines.add(line.toString().strip());
        return lines;
    }
}
