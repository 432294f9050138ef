package org.maejvm.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.maejvm.tornado.TornadoDevices;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code mae devices}: the devices TornadoVM sees, numbered as {@code --backend tornado --device N} takes them,
 * or why there are none (TornadoVM not installed, no device). Exit code 1 when no device can be used.
 */
@Command(name = "devices", description = {
    "List the GPU (and other OpenCL/PTX/SPIR-V) devices TornadoVM sees, numbered for --backend tornado --device N.",
    "Needs the TornadoVM SDK: run through its JVM flags (see README)."
})
final class DevicesCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        String why = TornadoDevices.unavailableReason();
        if (why != null) {
            PrintWriter err = spec.commandLine().getErr();
            err.println(why);
            err.flush();
            return 1;
        }
        List<TornadoDevices.Device> devices = TornadoDevices.list();
        for (TornadoDevices.Device d : devices) out.println(d);
        out.println(devices.size() + " device(s); pick one with --backend tornado --device N");
        out.flush();
        return 0;
    }
}
