/*
 * `sipwarden stir`: STIR/SHAKEN from the command line.
 *
 *   stir keygen --out DIR [--cn NAME] [--days N]
 *       a P-256 key (DIR/shaken.key, mode 600, never overwritten) and a self-signed test
 *       certificate for it (DIR/shaken.pem; SHAKEN-looking subject, no TNAuthList)
 *   stir sign --key K --x5u URL --orig TN --dest TN --attest A|B|C [--iat N]
 *       [--origid UUID] [--cert C] [--country CC]
 *       prints the Identity header value (the key must be mode 600; with --cert the
 *       certificate must match the key)
 *   stir verify (--cert CERT | --ca CA [--allow-private] [--allow-port N]... [--tls-ca F])
 *       [--orig TN --dest TN] [--now EPOCH] [--window S] [--repeat N] [--country CC]
 *       'IDENTITY-HEADER-VALUE'
 *       prints the decoded header and claims, the verdict and its reason. --cert trusts
 *       that certificate (bundle) for the token's x5u without fetching; --ca fetches x5u
 *       and checks the chain against CA. --repeat verifies N times in one process (the
 *       later ones from the cache) and prints the fetch count.
 *
 * Exit status: 0 success / valid, 1 invalid or failed, 2 usage. Main thread only.
 */
#ifndef SW_TOOLS_STIR_H
#define SW_TOOLS_STIR_H

/* The subcommand; argv[0] is "stir". */
int tools_stir_main(int argc, char **argv);

#endif
