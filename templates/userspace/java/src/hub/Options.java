package hub;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The command line every loader takes.
 *
 * @param duration -d SECONDS: stop after that long; 0 = until Ctrl-C
 * @param interval -t SECONDS: how often map contents are printed
 * @param ifindex -i IFACE: where XDP and TC programs attach; 0 = not given
 * @param params -p NAME=VALUE: the package's parameters
 */
public record Options(double duration, double interval, int ifindex, Map<String, String> params) {
    private static final Set<String> FLAGS = Set.of("-d", "-t", "-i", "-p");
    static final String USAGE = "usage: [-d SECONDS] [-t INTERVAL] [-i IFACE] [-p NAME=VALUE]...";

    public static Options parse(String[] args) {
        double duration = 0;
        double interval = 1;
        int ifindex = 0;
        Map<String, String> params = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("-h")) {
                System.out.println(USAGE);
                System.exit(0);
            }
            if (!FLAGS.contains(flag) || i + 1 == args.length) {
                throw new LoaderError(flag + ": unknown option or missing value; " + USAGE);
            }
            String value = args[++i];
            switch (flag) {
                case "-d" -> duration = seconds(flag, value);
                case "-t" -> interval = seconds(flag, value);
                case "-i" -> {
                    ifindex = Libbpf.LibC.LIB.if_nametoindex(value);
                    if (ifindex == 0) {
                        throw new LoaderError("-i " + value + ": no such network interface");
                    }
                }
                default -> {
                    int at = value.indexOf('=');
                    if (at < 1) {
                        throw new LoaderError("-p " + value + ": write -p NAME=VALUE");
                    }
                    params.put(value.substring(0, at), value.substring(at + 1));
                }
            }
        }
        if (interval == 0) {
            throw new LoaderError("-t 0: give an interval above zero");
        }
        return new Options(duration, interval, ifindex, params);
    }

    private static double seconds(String flag, String text) {
        try {
            double value = Double.parseDouble(text);
            if (value >= 0 && Double.isFinite(value)) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new LoaderError(flag + " " + text + ": give a number of seconds");
    }
}
