package org.maejvm.train;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.maejvm.io.AtomicFiles;

/** The PNG beside log.txt: training loss (left axis) and learning rate (right axis) over global steps. */
public final class TrainingPlot {
    public static final String FILE_NAME = "log.png";

    private TrainingPlot() {}

    /** Draws the step lines of {@code log} into {@code png} (atomically); does nothing when there are none. */
    public static boolean write(Path log, Path png) throws IOException {
        List<TrainingLog.StepRecord> steps = TrainingLog.readSteps(log);
        if (steps.isEmpty()) return false;
        double[] x = new double[steps.size()], loss = new double[steps.size()], lr = new double[steps.size()];
        for (int i = 0; i < x.length; i++) {
            TrainingLog.StepRecord r = steps.get(i);
            x[i] = r.globalStep();
            loss[i] = r.loss();
            lr[i] = r.lr();
        }
        XYChart chart = new XYChartBuilder().width(900).height(500).title("MAE pretraining")
                .xAxisTitle("step").yAxisTitle("loss").build();
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.setYAxisGroupTitle(1, "learning rate");
        XYSeries l = chart.addSeries("loss", x, loss);
        l.setMarker(SeriesMarkers.NONE);
        l.setLineColor(new Color(0x1f77b4));
        XYSeries r = chart.addSeries("lr", x, lr);
        r.setMarker(SeriesMarkers.NONE);
        r.setLineColor(new Color(0xff7f0e));
        r.setYAxisGroup(1);
        byte[] bytes = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        AtomicFiles.write(png, o -> o.write(bytes));
        return true;
    }
}
