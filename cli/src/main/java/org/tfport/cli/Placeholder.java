package org.tfport.cli; final class Placeholder {}
