package main

import (
	"context"
	"net"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The echo service is declared by hand (no protoc here): one unary method
// whose request and reply are protobuf's well-known StringValue, which
// grpc's default codec already knows.
const (
	echoService = "roster.examples.Echo"
	echoMethod  = "/" + echoService + "/Echo"
)

// echoServer answers with its name, so the caller sees who served a call.
type echoServer struct{ name string }

var echoDesc = grpc.ServiceDesc{
	ServiceName: echoService,
	HandlerType: (*any)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Echo", Handler: echoHandler}},
}

func echoHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	in := new(wrapperspb.StringValue)
	if err := dec(in); err != nil {
		return nil, err
	}
	s := srv.(*echoServer)
	if interceptor == nil {
		return s.echo(in), nil
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: echoMethod}
	return interceptor(ctx, in, info, func(_ context.Context, req any) (any, error) {
		return s.echo(req.(*wrapperspb.StringValue)), nil
	})
}

func (s *echoServer) echo(in *wrapperspb.StringValue) *wrapperspb.StringValue {
	return wrapperspb.String(s.name + ": " + in.GetValue())
}

// callEcho sends msg through conn and returns the name of the server that
// answered.
func callEcho(ctx context.Context, conn *grpc.ClientConn, msg string) (string, error) {
	out := new(wrapperspb.StringValue)
	if err := conn.Invoke(ctx, echoMethod, wrapperspb.String(msg), out); err != nil {
		return "", err
	}
	name, _, _ := strings.Cut(out.GetValue(), ": ")
	return name, nil
}

// startEcho serves the echo service under name on a random loopback port.
func startEcho(name string) (*grpc.Server, string, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := grpc.NewServer()
	srv.RegisterService(&echoDesc, &echoServer{name: name})
	go func() { _ = srv.Serve(lis) }()
	return srv, lis.Addr().String(), nil
}
