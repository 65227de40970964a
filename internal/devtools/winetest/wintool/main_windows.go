package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/windows"

	"upshot/internal/keyring"
)

func run(args []string) error {
	switch {
	case len(args) == 3 && args[0] == "hold":
		size, err := strconv.Atoi(args[2])
		if err != nil {
			return err
		}
		return hold(args[1], size)
	case len(args) == 3 && args[0] == "cred":
		return keyring.Set(context.Background(), args[1], args[2])
	}
	return errors.New("usage: wintool hold FILE SIZE | wintool cred USER SECRET")
}

func hold(path string, size int) error {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return err
	}
	h, err := windows.CreateFile(p, windows.GENERIC_WRITE, 0, nil, windows.CREATE_NEW, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	f := os.NewFile(uintptr(h), path)
	data := make([]byte, size)
	rand.Read(data)
	if _, err := f.Write(data[:size/2]); err != nil {
		return err
	}
	fmt.Println("held")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return err
	}
	if _, err := f.Write(data[size/2:]); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Println("closed")
	return nil
}
