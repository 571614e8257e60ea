"""`cpc`: run the local stack, the four services and the demo.

    cpc up        start Kafka, FerretDB, the mail server and the four services
    cpc down      stop them all
    cpc demo      `up`, then send a handful of conference requests and show what happened
    cpc asyncapi  write the event catalogue (docs/asyncapi/catalogue.json)
    cpc token     print a bearer token for the local APIs (e.g. --role chair --chair-id CHAIR-GL-01)
"""

from __future__ import annotations

import argparse

from cpc_stack import infra, services


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="cpc", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the stack and the four services")
    commands.add_parser("down", help="stop the services and the stack")
    commands.add_parser("stack", help="start only Kafka, FerretDB and the mail server")
    commands.add_parser("asyncapi", help="write the AsyncAPI event catalogue to docs/asyncapi/catalogue.json")
    demo = commands.add_parser("demo", help="start everything and send a handful of requests through")
    demo.add_argument("--requests", type=int, default=5)
    token = commands.add_parser("token", help="print a bearer token for the local APIs")
    token.add_argument("--role", choices=["chair", "coordinator", "manager", "agency"], default="coordinator")
    token.add_argument("--subject", default="local-user")
    token.add_argument("--chair-id")
    token.add_argument("--agency")
    args = parser.parse_args(argv)

    if args.command == "token":
        from cpc_shared.http import issue_token

        print(issue_token(infra.staff_token_secret(), subject=args.subject, role=args.role, chair_id=args.chair_id,
                          agency=args.agency))
        return

    if args.command == "asyncapi":
        from cpc_stack.docs import write_catalogue

        print(f"wrote {write_catalogue()}")
        return
    if args.command == "down":
        services.stop()
        infra.down()
        return
    endpoints = infra.up()
    if args.command == "stack":
        return
    services.start(endpoints)
    if args.command == "demo":
        from cpc_stack.demo import run_demo

        run_demo(endpoints, args.requests)


if __name__ == "__main__":
    main()
