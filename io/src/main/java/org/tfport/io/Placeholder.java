package org.tfport.io; final class Placeholder {}
