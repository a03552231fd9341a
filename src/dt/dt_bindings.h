/*
 * The dt-bindings headers shipped in dts/include, built into the library: the devicetree loader writes them into
 * a private folder that the C preprocessor searches, so a board file's #include <dt-bindings/...> resolves
 * wherever the library is installed.
 */
#ifndef AMPLINK_SRC_DT_BINDINGS_H
#define AMPLINK_SRC_DT_BINDINGS_H

struct ampl_dt_embedded_file {
	const char *path;           /* relative: "dt-bindings/interrupt-controller/arm-gic.h" */
	const unsigned char *data;
	unsigned int size;
};

extern const struct ampl_dt_embedded_file ampl_dt_bindings[];
extern const unsigned int ampl_dt_num_bindings;

#endif /* AMPLINK_SRC_DT_BINDINGS_H */
