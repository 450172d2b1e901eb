// The floor for compile cost: what any socket wrapper must include (the system socket headers) plus the
// standard headers netlite's API is built from. netlite's own cost is measured against this.
#include <expected>
#include <span>
#include <string>
#include <system_error>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
