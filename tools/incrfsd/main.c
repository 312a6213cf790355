// SPDX-License-Identifier: GPL-2.0-only
/*
 * main.c - incrfsd, the feeder of an incrfs mount: fills missing blocks
 * from the image's blob when readers wait for them (see --help).
 *
 * Why this exists: the program's entry point only parses the command line
 * and routes signals to the event loop; the work is in feeder.c.
 */
#include <signal.h>
#include <stdio.h>

#include "feeder.h"
#include "log.h"
#include "node.h"
#include "options.h"
#include "source.h"

int main(int argc, char *argv[])
{
	struct incrfsd_options o;
	int ret;

	ret = incrfsd_parse_options(&o, argc, argv, stdout, stderr);
	if (ret > 0)
		return INCRFSD_EXIT_OK;
	if (ret < 0)
		return INCRFSD_EXIT_USAGE;
	incrfsd_verbosity = o.verbose;
	incrfsd_source_set_net(&(struct incrfsd_net_opts){
		.ca_file = o.ca_file, .insecure = o.insecure,
		.n_insecure = o.n_insecure, .mirrors = o.mirrors,
		.n_mirrors = o.n_mirrors });
	/*
	 * Stop signals end the start-up as they end any program (a server
	 * that does not answer may hold it for a while); the event loop
	 * takes them through a signalfd (feeder.c).
	 */
	signal(SIGPIPE, SIG_IGN);
	if (o.node)
		return node_main(&o);
	return feeder_main(&o);
}
